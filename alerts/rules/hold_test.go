package rules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A reload that raises `for` puts a firing alert that has not been active
// that long back to pending, as Prometheus does; it fires again once it has.
func TestRaisedForPutsFiringAlertBackToPending(t *testing.T) {
	dir := t.TempDir()
	w := &world{}
	w.set(map[string]float64{"node-1:9400": 91})
	h := newHarness(t, dir, w, t0)
	for m := 0; m <= 3; m++ {
		h.at(float64(m))
	}
	if s := state(t, h.at(4)); s != "firing" {
		t.Fatalf("before reload: %s", s)
	}
	raised := strings.Replace(hotRules, "for: 3m", "for: 6m", 1)
	if err := os.WriteFile(filepath.Join(dir, "gpu.yml"), []byte(raised), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Update(context.Background(), []string{filepath.Join(dir, "*.yml")}); err != nil {
		t.Fatal(err)
	}
	alerts := h.at(5)
	if state(t, alerts) != "pending" || !alerts[0].FiredAt.IsZero() || !alerts[0].ActiveAt.Equal(t0) {
		t.Fatalf("5m after activation, for 6m: %+v", alerts)
	}
	if alerts := h.at(6); state(t, alerts) != "firing" || !alerts[0].ActiveAt.Equal(t0) {
		t.Fatalf("6m after activation: %+v", alerts)
	}
}
