// Command gen writes docs/flags.md, the flag reference of gpuwd-agent and
// gpuwd serve (see package flagdoc). Run it from the repository root:
//
//	go run ./internal/flagdoc/gen [-o docs/flags.md]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gpu-watchdog/gpu-watchdog/internal/flagdoc"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	out := fs.String("o", "docs/flags.md", "file to write")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := os.WriteFile(*out, flagdoc.Generate(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		return 1
	}
	return 0
}
