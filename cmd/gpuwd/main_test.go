package main

import "testing"

func TestRun(t *testing.T) {
	if code := run([]string{"version"}); code != 0 {
		t.Errorf("version: exit %d", code)
	}
	if code := run([]string{"serve"}); code != 2 {
		t.Errorf("an unknown command: exit %d, want 2", code)
	}
}
