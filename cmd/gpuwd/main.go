// Command gpuwd is the aggregator (gpuwd serve) and the command-line tool of
// gpu-watchdog (gpuwd query). See package aggregator.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
	"github.com/gpu-watchdog/gpu-watchdog/internal/cli"
)

// Stamped by the build: -ldflags "-X main.version=… -X main.revision=…".
var (
	version  = "dev"
	revision = "unknown"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `gpuwd is gpu-watchdog's aggregator and command-line tool.

Commands:
  gpuwd serve [flags]        scrape the agents, keep history, serve the API on :8080
  gpuwd query [flags] EXPR   evaluate PromQL against a running gpuwd serve
  gpuwd version              print the version

Run "gpuwd COMMAND -h" for a command's flags; every flag can also be set
through an environment variable, GPUWD_<FLAG>.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "query":
		return query(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "gpuwd %s (%s)\n", version, revision)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "gpuwd: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// parse fills fs from args and GPUWD_* variables; ok false means exit with code.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(stderr)
	cli.UsageWithEnv(fs, "GPUWD_")
	if err := cli.Parse(fs, args, "GPUWD_", nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		fmt.Fprintf(stderr, "gpuwd %s: %v\n", fs.Name(), err)
		return 2, false
	}
	return 0, true
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	opts := aggregator.DefaultOptions()
	opts.RegisterFlags(fs)
	logFormat := fs.String("log-format", "auto", "log format: auto, json or text")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gpuwd serve: unexpected arguments %q\n", fs.Args())
		return 2
	}
	logger, err := cli.NewLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "gpuwd serve:", err)
		return 2
	}
	opts.Version, opts.Revision = version, revision
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv, err := aggregator.New(ctx, opts, logger)
	if err != nil {
		logger.Error("gpuwd serve could not start", "err", err)
		return 1
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			if err := srv.Reload(); err != nil {
				logger.Error("reload failed; keeping the running configuration", "err", err)
			}
		}
	}()
	if err := srv.Run(ctx); err != nil {
		logger.Error("gpuwd serve stopped", "err", err)
		return 1
	}
	return 0
}
