// Package testenv lets tests ask for the real programs they run against
// (promtool, slurmctld, chromium, …). Where one is missing a test skips,
// except under CI=true, where it fails: CI must never pass by skipping what
// it was meant to check. `make test` installs the programs when it can.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// CI reports whether the tests run under CI (CI=true).
func CI() bool { return os.Getenv("CI") == "true" }

// LookPath returns the path of the executable program on PATH, or ends the test: a failure under CI,
// a skip elsewhere.
func LookPath(t testing.TB, program string) string {
	t.Helper()
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, program)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	Missing(t, program+" not found on PATH (make test installs it)")
	return ""
}

// Missing ends the test because a component it needs is not here.
func Missing(t testing.TB, why string) {
	t.Helper()
	if CI() {
		t.Fatalf("CI=true and %s", why)
	}
	t.Skip(why)
}
