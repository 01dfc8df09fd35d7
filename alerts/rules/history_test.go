package rules

import (
	"context"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
)

// Every state change lands in the history once, newest first; pruning
// drops what is older than the cut.
func TestHistoryRecordsTransitions(t *testing.T) {
	dir := t.TempDir()
	w := &world{}
	h := newHarness(t, dir, w, t0)
	w.set(map[string]float64{"node-1:9400": 91})
	for m := 0; m <= 3; m++ {
		h.at(float64(m)) // pending at 0, firing at 3
	}
	w.set(nil)
	for m := 4; m <= 6; m++ {
		h.at(float64(m)) // kept firing, resolved at 6
	}
	db, err := alertdb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := NewSQLState(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := st.History(context.Background(), t0, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range hist {
		got = append(got, e.From+"→"+e.To+"@"+e.At.Sub(t0).String())
		if e.Rule != "GPUHot" || e.Labels["instance"] != "node-1:9400" {
			t.Errorf("entry %+v", e)
		}
	}
	want := []string{"firing→inactive@6m0s", "pending→firing@3m0s", "inactive→pending@0s"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("history %q, want %q", got, want)
	}
	if err := st.PruneHistory(context.Background(), t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if hist, _ = st.History(context.Background(), t0, "", 0); len(hist) != 1 {
		t.Fatalf("%d entries after pruning, want 1", len(hist))
	}
}
