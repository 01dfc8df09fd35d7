package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
)

// hashPassword is `gpuwd hash-password`: reads a password from the first
// line of standard input and prints the bcrypt hash for the config's
// dashboard.admins[].password_hash.
func hashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprint(stderr, "usage: gpuwd hash-password < FILE   (or: read -rs P; echo \"$P\" | gpuwd hash-password)\n")
		return 2
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(stderr, "gpuwd hash-password: %v\n", err)
		return 1
	}
	h, err := auth.HashPassword(strings.TrimRight(line, "\r\n"))
	if err != nil {
		fmt.Fprintf(stderr, "gpuwd hash-password: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, h)
	return 0
}
