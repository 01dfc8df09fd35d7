package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLookPathFindsExecutablesOnly(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "tool")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", "/nonexistent"+string(filepath.ListSeparator)+dir)
	if got := LookPath(t, "tool"); got != exe {
		t.Errorf("LookPath = %q, want %q", got, exe)
	}
	t.Run("not executable", func(t *testing.T) {
		t.Setenv("CI", "")
		LookPath(t, "data")
		t.Error("a plain file was taken for a program")
	})
}
