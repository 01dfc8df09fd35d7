// Command gpuwd is the aggregator and the command-line tool of gpu-watchdog.
// For now it only prints its version; the aggregator arrives with `gpuwd serve`.
package main

import (
	"fmt"
	"os"
)

// Stamped by the build: -ldflags "-X main.version=… -X main.revision=…".
var (
	version  = "dev"
	revision = "unknown"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) == 0 || args[0] == "version" || args[0] == "--version" {
		fmt.Printf("gpuwd %s (%s)\n", version, revision)
		return 0
	}
	fmt.Fprintf(os.Stderr, "gpuwd: unknown command %q (this version only knows: version)\n", args[0])
	return 2
}
