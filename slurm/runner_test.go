package slurm

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cmd")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunnerGivesUpOnAHungCommandAndKillsIt(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	// The command starts a child that would outlive it, as a stuck client's
	// helper might: the whole group must go.
	r := &execRunner{timeout: 300 * time.Millisecond, paths: map[string]string{
		"sinfo": script(t, "sleep 30 & echo $! > "+pidFile+"; wait"),
	}}
	_, err := r.Run(context.Background(), "sinfo", "-h")
	if err == nil || !strings.Contains(err.Error(), "no answer within 300ms") {
		t.Fatalf("Run = %v", err)
	}
	b, _ := os.ReadFile(pidFile)
	pid := strings.TrimSpace(string(b))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if n, _ := strconv.Atoi(pid); n > 0 && syscall.Kill(n, 0) != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hung command's child %s survived", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunnerErrors(t *testing.T) {
	r := &execRunner{timeout: 5 * time.Second, paths: map[string]string{
		"squeue": script(t, "echo 'squeue: error: Unable to contact slurm controller (connect failure)' >&2; echo second >&2; exit 1"),
		"sinfo":  script(t, "echo ok"),
	}}
	if _, err := r.Run(context.Background(), "squeue", "-h"); err == nil ||
		!strings.Contains(err.Error(), "Unable to contact slurm controller") || strings.Contains(err.Error(), "second") {
		t.Errorf("failing command: %v", err)
	}
	if out, err := r.Run(context.Background(), "sinfo"); err != nil || string(out) != "ok\n" {
		t.Errorf("sinfo = %q, %v", out, err)
	}
	if _, err := r.Run(context.Background(), "sdiag"); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("missing program: %v", err)
	}
}

func TestLimitedBufferStopsAtItsLimit(t *testing.T) {
	b := limitedBuffer{limit: 4}
	b.Write([]byte("abc"))
	b.Write([]byte("def"))
	if b.String() != "abcd" || !b.over {
		t.Errorf("buffer %q over=%v", b.String(), b.over)
	}
}
