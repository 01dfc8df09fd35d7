package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
	"github.com/gpu-watchdog/gpu-watchdog/internal/cli"
)

// serve is `gpuwd serve`: flags into aggregator.Options, SIGHUP reloads the
// configuration, SIGINT/SIGTERM stop it.
func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	opts := aggregator.DefaultOptions()
	opts.RegisterFlags(fs)
	logFlags := cli.RegisterLogFlags(fs)
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gpuwd serve: unexpected arguments %q\n", fs.Args())
		return 2
	}
	logger, err := logFlags.Logger(stderr)
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
