package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
)

func TestCommands(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "gpuwd ") {
		t.Errorf("version: exit %d, %q", code, out.String())
	}
	errOut.Reset()
	if code := run([]string{"frobnicate"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"query"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "exactly one PromQL expression") {
		t.Errorf("query without an expression: exit %d, %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"serve", "--token", "a", "--token-file", "b", "--data-dir", t.TempDir()}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "both set") {
		t.Errorf("serve with --token and --token-file: exit %d, %q", code, errOut.String())
	}
	errOut.Reset()
	out.Reset()
	if code := hashPassword(nil, strings.NewReader("correct horse\n"), &out, &errOut); code != 0 || auth.CheckHash(strings.TrimSpace(out.String())) != nil {
		t.Errorf("hash-password: exit %d, %q %q", code, out.String(), errOut.String())
	}
	if code := hashPassword(nil, strings.NewReader("short\n"), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "shorter than 8") {
		t.Errorf("hash-password of a short password: exit %d, %q", code, errOut.String())
	}
}
