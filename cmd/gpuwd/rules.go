package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules/ruletest"
	"github.com/gpu-watchdog/gpu-watchdog/internal/cli"
)

const rulesUsage = `Usage:
  gpuwd rules check [--lint-fatal] FILE...   validate rule files, as promtool check rules does
  gpuwd rules test FILE...                    run rule unit tests, as promtool test rules does
`

// rulesCmd is `gpuwd rules`: checks and tests rule files offline.
func rulesCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, rulesUsage)
		return 2
	}
	switch args[0] {
	case "check":
		return rulesCheck(args[1:], stdout, stderr)
	case "test":
		return rulesTest(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, rulesUsage)
		return 0
	}
	fmt.Fprintf(stderr, "gpuwd rules: unknown command %q\n\n%s", args[0], rulesUsage)
	return 2
}

// rulesCheck prints, per file, SUCCESS with the number of rules or FAILED
// with every error; warnings are printed and fail only with --lint-fatal.
func rulesCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rules check", flag.ContinueOnError)
	lintFatal := fs.Bool("lint-fatal", false, "fail on warnings too")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, rulesUsage)
		return 2
	}
	failed := false
	for _, file := range fs.Args() {
		fmt.Fprintf(stdout, "Checking %s\n", file)
		res := rules.Check(file)
		if len(res.Errors) > 0 {
			failed = true
			fmt.Fprintln(stderr, "  FAILED:")
			for _, err := range res.Errors {
				fmt.Fprintln(stderr, err)
			}
			fmt.Fprintln(stderr)
			continue
		}
		for _, w := range res.Warnings {
			fmt.Fprintf(stderr, "  WARNING: %s\n", w)
		}
		if *lintFatal && len(res.Warnings) > 0 {
			failed = true
			fmt.Fprintln(stderr, "  FAILED: warnings with --lint-fatal")
			continue
		}
		fmt.Fprintf(stdout, "  SUCCESS: %d rules found\n\n", res.Rules)
	}
	if failed {
		return 1
	}
	return 0
}

// rulesTest runs rule unit-test files (promtool's format) with our engine.
func rulesTest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rules test", flag.ContinueOnError)
	var run cli.StringList
	fs.Var(&run, "run", "run only the test groups whose names match this regular expression (repeatable)")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, rulesUsage)
		return 2
	}
	return ruletest.Run(stdout, fs.Args(), ruletest.Options{Run: run})
}
