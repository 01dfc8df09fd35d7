package flagdoc

import (
	"flag"

	"github.com/gpu-watchdog/gpu-watchdog/agent"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
)

// Programs are the programs the reference covers, with the flag sets their
// mains build: the options' RegisterFlags, plus the few flags the mains add
// themselves (see mainFlags).
func Programs() []Program {
	agentFlags := flag.NewFlagSet("gpuwd-agent", flag.ContinueOnError)
	ao := agent.DefaultOptions()
	ao.RegisterFlags(agentFlags)
	logFlags(agentFlags)
	agentFlags.Bool("version", false, "print the version and exit")

	serveFlags := flag.NewFlagSet("serve", flag.ContinueOnError)
	so := aggregator.DefaultOptions()
	so.RegisterFlags(serveFlags)
	logFlags(serveFlags)

	return []Program{
		{Command: "gpuwd-agent", Flags: agentFlags,
			About: "The agent on every GPU node (see the README's *Running the agent on a real GPU node* and " +
				"*A Slurm cluster from a handful of pods*). `gpuwd-agent munge-key` prints a new munge key."},
		{Command: "gpuwd serve", Flags: serveFlags,
			About: "The aggregator and dashboard. Most of its settings live in the YAML file named by `--config` " +
				"(see the README's *Running the aggregator*). The other gpuwd commands (`query`, `rules`, `alerting`, " +
				"`silence`) have flags of their own: `gpuwd COMMAND -h`."},
	}
}

// logFlags mirrors the flags cmd/gpuwd-agent/main.go and cmd/gpuwd/serve.go
// define in main, out of reach of this package. pkgtest compares the built
// programs' -h with this reference, so a change there fails a test.
func logFlags(fs *flag.FlagSet) {
	fs.String("log-format", "auto", "log format: auto, json or text")
	fs.String("log-level", "info", "log level: debug, info, warn or error")
}
