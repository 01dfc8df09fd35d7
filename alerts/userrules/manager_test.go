package userrules

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
)

// hotGPU answers every query with one GPU at 91 °C.
func hotGPU(_ context.Context, _ string, t time.Time) (promql.Vector, error) {
	return promql.Vector{{Metric: labels.FromStrings("__name__", "DCGM_FI_DEV_GPU_TEMP", "instance", "node-1:9400", "gpu", "0"), T: t.UnixMilli(), F: 91}}, nil
}

func loaded(m *rules.Manager) map[string]*rules.AlertingRule {
	out := map[string]*rules.AlertingRule{}
	for _, g := range m.Groups() {
		if g.File() != File {
			continue
		}
		for _, r := range g.Rules() {
			out[r.Name()] = r.(*rules.AlertingRule)
		}
	}
	return out
}

// The wiring: Store.Extra feeds the manager, Reload after each change.
func TestManagerRunsDashboardRules(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, t.TempDir())
	s := mustOpen(t, db)
	m, err := rules.NewManager(rules.Options{Query: hotGPU, Extra: s.Extra, DefaultInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Update(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if len(m.Groups()) != 0 {
		t.Fatalf("%d groups without rules", len(m.Groups()))
	}
	r := hot()
	r.For = 2 * time.Minute
	r = mustSave(t, s, r, "", "alice")
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for min := range 3 {
		m.EvalAt(ctx, t0.Add(time.Duration(min)*time.Minute))
	}
	if st := loaded(m)["GPUHot"].State(); st != rules.StateFiring {
		t.Fatalf("GPUHot is %s, want firing", st)
	}

	// Another rule saved: GPUHot, unchanged, keeps firing.
	mustSave(t, s, Rule{Name: "Other", Expr: "vector(1)"}, "", "bob")
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := loaded(m); len(got) != 2 || got["GPUHot"].State() != rules.StateFiring {
		t.Fatalf("after saving another rule: %v", got)
	}

	// A row that no longer passes the checks is left out, not fatal.
	if _, err := db.Exec("UPDATE userrules_rules SET expr = 'rate(' WHERE name = 'Other'"); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := loaded(m); len(got) != 1 || got["GPUHot"] == nil {
		t.Fatalf("with a broken row: %v", got)
	}

	// Deleted: its group goes.
	for _, name := range []string{"GPUHot", "Other"} {
		cur, err := s.Get(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, name, cur.Version, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if len(m.Groups()) != 0 {
		t.Fatalf("%d groups after deleting every rule", len(m.Groups()))
	}
}

// A draft is tested against current data without saving it.
func TestPreviewOfADraft(t *testing.T) {
	m, err := rules.NewManager(rules.Options{Query: hotGPU, ExternalLabels: map[string]string{"cluster": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	draft := hot()
	draft.Annotations["summary"] = "{{ $externalLabels.cluster }}/{{ $labels.instance }}: {{ $value }}"
	content, err := Marshal([]Rule{draft})
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Preview(context.Background(), File, content, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Err != nil || len(got[0].Alerts) != 1 {
		t.Fatalf("preview: %+v", got)
	}
	if a := got[0].Alerts[0]; a.Annotations.Get("summary") != "a/node-1:9400: 91" || a.Labels.Get("severity") != "critical" || a.State != rules.StatePending {
		t.Fatalf("alert %s %s %s", a.State, a.Labels, a.Annotations)
	}
}
