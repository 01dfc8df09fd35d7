package flagdoc

import (
	"flag"

	"github.com/gpu-watchdog/gpu-watchdog/agent"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
	"github.com/gpu-watchdog/gpu-watchdog/internal/cli"
)

// Programs are the programs the reference covers, with the flag sets their
// mains build: the options' RegisterFlags and cli.RegisterLogFlags, plus
// the agent's --version (pkgtest compares the built programs' -h with this).
func Programs() []Program {
	agentFlags := flag.NewFlagSet("gpuwd-agent", flag.ContinueOnError)
	ao := agent.DefaultOptions()
	ao.RegisterFlags(agentFlags)
	cli.RegisterLogFlags(agentFlags)
	agentFlags.Bool("version", false, "print the version and exit")

	serveFlags := flag.NewFlagSet("serve", flag.ContinueOnError)
	so := aggregator.DefaultOptions()
	so.RegisterFlags(serveFlags)
	cli.RegisterLogFlags(serveFlags)

	return []Program{
		{Command: "gpuwd-agent", Flags: agentFlags,
			About: "The agent on every GPU node (see *Running the agent on a real GPU node* and " +
				"*A Slurm cluster from a handful of pods* above). `gpuwd-agent munge-key` prints a new munge key."},
		{Command: "gpuwd serve", Flags: serveFlags,
			About: "The aggregator and dashboard. Most of its settings live in the YAML file named by `--config` " +
				"(see *Running the aggregator* above). The other gpuwd commands (`query`, `rules`, `alerting`, " +
				"`silence`) have flags of their own: `gpuwd COMMAND -h`."},
	}
}
