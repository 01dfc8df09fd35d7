// Command gpuwd is the aggregator (gpuwd serve) and the command-line tool of
// gpu-watchdog (gpuwd query). See package aggregator.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

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
  gpuwd rules check FILE...  validate Prometheus rule files (like promtool check rules)
  gpuwd rules test FILE...   run rule unit tests (like promtool test rules)
  gpuwd alerting check FILE  validate an Alertmanager configuration (like amtool check-config)
  gpuwd silence add|query|expire   silence alerts on a running gpuwd serve
  gpuwd hash-password        bcrypt a dashboard admin's password read from stdin
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
	case "rules":
		return rulesCmd(args[1:], stdout, stderr)
	case "alerting":
		return alertingCmd(args[1:], stdout, stderr)
	case "silence":
		return silenceCmd(args[1:], stdout, stderr)
	case "hash-password":
		return hashPassword(args[1:], os.Stdin, stdout, stderr)
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
