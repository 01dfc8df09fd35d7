package rules

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
)

// extraRules is a settable Options.Extra.
type extraRules struct {
	mu      sync.Mutex
	name    string
	content string
	err     error
}

func (e *extraRules) set(content string, err error) {
	e.mu.Lock()
	e.content, e.err = content, err
	e.mu.Unlock()
}

func (e *extraRules) get(context.Context) (string, []byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.name, []byte(e.content), e.err
}

const extraHot = `groups:
- name: dashboard
  rules:
  - alert: DashHot
    expr: DCGM_FI_DEV_GPU_TEMP > 85
    for: 2m
`

// newExtraManager is a manager over dir/*.yml and extra, with state in
// dir's alerts.db.
func newExtraManager(t *testing.T, dir string, w *world, extra *extraRules, now *time.Time) *Manager {
	t.Helper()
	db, err := alertdb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	state, err := NewSQLState(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(Options{
		Query:           w.query,
		State:           state,
		Now:             func() time.Time { return *now },
		DefaultInterval: time.Minute,
		Extra:           extra.get,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Update(context.Background(), []string{filepath.Join(dir, "*.yml")}); err != nil {
		t.Fatal(err)
	}
	return m
}

// ruleByName finds a loaded alerting rule and its group's file.
func ruleByName(t *testing.T, m *Manager, name string) (*AlertingRule, string) {
	t.Helper()
	for _, g := range m.Groups() {
		for _, r := range g.Rules() {
			if r.Name() == name {
				return r.(*AlertingRule), g.File()
			}
		}
	}
	t.Fatalf("rule %s not loaded", name)
	return nil, ""
}

func TestExtraRulesKeepStateAndBadContentChangesNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gpu.yml"), []byte(hotRules), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &world{}
	w.set(map[string]float64{"node-1:9400": 91})
	extra := &extraRules{name: "dashboard", content: extraHot}
	now := t0
	m := newExtraManager(t, dir, w, extra, &now)
	if len(m.Groups()) != 2 || m.Groups()[1].File() != "dashboard" || m.Groups()[1].Interval() != time.Minute {
		t.Fatalf("groups after Update: %d, want the file's then the extra one", len(m.Groups()))
	}
	if got := m.Files(); len(got) != 1 || filepath.Base(got[0]) != "gpu.yml" {
		t.Errorf("Files() = %q, want the rule file only", got)
	}
	for min := 0; min <= 2; min++ {
		now = t0.Add(time.Duration(min) * time.Minute)
		m.EvalAt(context.Background(), now)
	}
	r, _ := ruleByName(t, m, "DashHot")
	if r.State() != StateFiring {
		t.Fatalf("DashHot is %s after 2m, want firing", r.State())
	}
	fired := r.ActiveAlerts()[0].FiredAt

	// The same rule plus another: the alert keeps firing since the same time.
	extra.set(extraHot+"  - alert: DashOther\n    expr: vector(1)\n", nil)
	if err := m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, _ = ruleByName(t, m, "DashHot")
	if a := r.ActiveAlerts(); len(a) != 1 || a[0].State != StateFiring || !a[0].FiredAt.Equal(fired) {
		t.Fatalf("after Reload: %+v, want firing since %s", a, fired)
	}
	ruleByName(t, m, "DashOther")

	// Bad content, then an error: Update and Reload fail, name the
	// problem, and change nothing.
	extra.set("groups:\n- name: dashboard\n  rules:\n  - alert: X\n    expr: rate(\n", nil)
	for _, load := range []func() error{
		func() error { return m.Reload(context.Background()) },
		func() error { return m.Update(context.Background(), []string{filepath.Join(dir, "*.yml")}) },
	} {
		err := load()
		if err == nil || !strings.Contains(err.Error(), "dashboard") || !strings.Contains(err.Error(), "could not parse expression") {
			t.Fatalf("bad extra content: %v", err)
		}
	}
	extra.set("", errors.New("database is locked"))
	if err := m.Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("extra error: %v", err)
	}
	if len(m.Groups()) != 2 || len(m.Groups()[1].Rules()) != 2 {
		t.Fatal("a failed load changed the rules")
	}
	if r, _ = ruleByName(t, m, "DashHot"); r.State() != StateFiring {
		t.Fatal("a failed load lost the alert")
	}

	// No extra rules: their group goes.
	extra.set("", nil)
	if err := m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(m.Groups()) != 1 || m.Groups()[0].File() == "dashboard" {
		t.Fatalf("%d groups after the extra rules went, want the file's only", len(m.Groups()))
	}
}

// Reload keeps the files as last loaded: a half-edited rule file on disk
// is not picked up by a dashboard change.
func TestReloadDoesNotReadFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "gpu.yml")
	if err := os.WriteFile(file, []byte(hotRules), 0o644); err != nil {
		t.Fatal(err)
	}
	extra := &extraRules{name: "dashboard", content: extraHot}
	now := t0
	m := newExtraManager(t, dir, &world{}, extra, &now)
	if err := os.WriteFile(file, []byte("groups: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(context.Background()); err != nil {
		t.Fatalf("Reload read the rule file: %v", err)
	}
	ruleByName(t, m, "GPUHot")
	if err := m.Update(context.Background(), []string{filepath.Join(dir, "*.yml")}); err == nil {
		t.Fatal("Update accepted a broken file")
	}
}

// The state of extra rules is restored after a restart, as for files.
func TestExtraRulesStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	w := &world{}
	w.set(map[string]float64{"node-1:9400": 91})
	extra := &extraRules{name: "dashboard", content: extraHot}
	now := t0
	m := newExtraManager(t, dir, w, extra, &now)
	for min := 0; min <= 2; min++ {
		now = t0.Add(time.Duration(min) * time.Minute)
		m.EvalAt(context.Background(), now)
	}
	r, _ := ruleByName(t, m, "DashHot")
	fired := r.ActiveAlerts()[0].FiredAt
	now = t0.Add(5 * time.Minute)
	m2 := newExtraManager(t, dir, w, extra, &now)
	m2.EvalAt(context.Background(), now)
	r, _ = ruleByName(t, m2, "DashHot")
	if a := r.ActiveAlerts(); len(a) != 1 || a[0].State != StateFiring || !a[0].FiredAt.Equal(fired) {
		t.Fatalf("after restart: %+v, want firing since %s", a, fired)
	}
}

func TestExtraNameMustDifferFromFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "gpu.yml")
	if err := os.WriteFile(file, []byte(hotRules), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(Options{
		Query: (&world{}).query,
		Extra: func(context.Context) (string, []byte, error) { return file, []byte(extraHot), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Update(context.Background(), []string{file}); err == nil || !strings.Contains(err.Error(), "a rule file has the same name") {
		t.Fatalf("extra rules named like a file: %v", err)
	}
}

func TestPreviewEvaluatesWithoutState(t *testing.T) {
	w := &world{}
	w.set(map[string]float64{"node-2:9400": 90, "node-1:9400": 91.4})
	now := t0
	extra := &extraRules{name: "dashboard", content: extraHot}
	m := newExtraManager(t, t.TempDir(), w, extra, &now)
	got, err := m.Preview(context.Background(), "dashboard", []byte(hotRules), t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Err != nil || len(got[0].Alerts) != 2 {
		t.Fatalf("preview: %+v", got)
	}
	a := got[0].Alerts[0]
	if a.Labels.Get("instance") != "node-1:9400" || a.State != StatePending || a.Annotations.Get("summary") != "GPU 0 on node-1:9400 at 91 °C" {
		t.Errorf("first alert: %s %s %s", a.State, a.Labels, a.Annotations)
	}
	// Nothing of the preview reached the manager's rules.
	if r, _ := ruleByName(t, m, "DashHot"); len(r.ActiveAlerts()) != 0 {
		t.Error("preview changed a loaded rule")
	}
	if _, err := m.Preview(context.Background(), "dashboard", []byte("groups: [\n"), t0); err == nil {
		t.Error("preview of a broken file: no error")
	}
}

func TestCheckContentIsCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "gpu.yml")
	if err := os.WriteFile(file, []byte(hotRules), 0o644); err != nil {
		t.Fatal(err)
	}
	a, b := Check(file), CheckContent(file, []byte(hotRules))
	if a.File != b.File || a.Rules != 1 || b.Rules != 1 || len(a.Errors)+len(b.Errors)+len(a.Warnings)+len(b.Warnings) != 0 {
		t.Fatalf("Check %+v, CheckContent %+v", a, b)
	}
	if res := Check(filepath.Join(dir, "missing.yml")); len(res.Errors) != 1 {
		t.Fatalf("missing file: %+v", res)
	}
}

// A Reload before the first Update loads nothing, so the first Update
// still restores the state of every group.
func TestReloadBeforeUpdateDoesNothing(t *testing.T) {
	extra := &extraRules{name: "dashboard", content: extraHot}
	m, err := NewManager(Options{Query: (&world{}).query, Extra: extra.get})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(context.Background()); err != nil || len(m.Groups()) != 0 {
		t.Fatalf("Reload before Update: %v, %d groups", err, len(m.Groups()))
	}
	if err := m.Update(context.Background(), nil); err != nil || len(m.Groups()) != 1 {
		t.Fatalf("Update: %v, %d groups", err, len(m.Groups()))
	}
}
