// Command gpuwd-agent runs on every GPU node: it reads the GPUs through NVML,
// serves Prometheus metrics on :9400 and, with --slurm-role, runs the node's
// part of a Slurm cluster. See package agent. "gpuwd-agent munge-key" prints
// a new munge key for a cluster.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gpu-watchdog/gpu-watchdog/agent"
	"github.com/gpu-watchdog/gpu-watchdog/internal/cli"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/munge"
)

// Stamped by the build: -ldflags "-X main.version=… -X main.revision=…".
var (
	version  = "dev"
	revision = "unknown"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) > 0 && args[0] == "munge-key" {
		// A new key for a cluster: give it to every node as GPUWD_MUNGE_KEY.
		fmt.Println(munge.GenerateKey().Encode())
		return 0
	}
	fs := flag.NewFlagSet("gpuwd-agent", flag.ContinueOnError)
	opts := agent.DefaultOptions()
	opts.RegisterFlags(fs)
	logFlags := cli.RegisterLogFlags(fs)
	showVersion := fs.Bool("version", false, "print the version and exit")
	cli.UsageWithEnv(fs, "GPUWD_")
	if err := cli.Parse(fs, args, "GPUWD_", nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "gpuwd-agent:", err)
		return 2
	}
	if *showVersion {
		fmt.Printf("gpuwd-agent %s (%s)\n", version, revision)
		return 0
	}
	logger, err := logFlags.Logger(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gpuwd-agent:", err)
		return 2
	}
	if err := opts.Check(); err != nil {
		// Settings come from GPUWD_* on a pod: name them as well as the flags.
		for _, line := range strings.Split(cli.WithEnvNames(err.Error(), fs, "GPUWD_"), "\n") {
			fmt.Fprintln(os.Stderr, "gpuwd-agent:", line)
		}
		return 2
	}
	opts.Version, opts.Revision = version, revision
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := agent.Run(ctx, opts, logger); err != nil {
		logger.Error("gpuwd-agent stopped", "err", err)
		return 1
	}
	return 0
}
