// Command gen rewrites the flag reference of gpuwd-agent and gpuwd serve in
// the README (see package flagdoc). Run it from the repository root:
//
//	go run ./internal/flagdoc/gen [-readme README.md]
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
	path := fs.String("readme", "README.md", "file whose flag block to rewrite")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := rewrite(*path); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		return 1
	}
	return 0
}

func rewrite(path string) error {
	readme, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := flagdoc.Splice(readme)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}
