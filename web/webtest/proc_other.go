//go:build !linux

package webtest

import "os/exec"

// Outside Linux, chromedp's own cleanup is all there is: the dashboard's
// tests run on Linux.

func ownProcessGroup(*exec.Cmd) {}

func killProcesses(int, string) {}

func reapProcesses(int, string) []int { return nil }

func browserProcesses(int, string) []int { return nil }
