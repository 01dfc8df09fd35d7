package idle

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
	"github.com/gpu-watchdog/gpu-watchdog/internal/audit"
)

// fakePods are a provider's pods: Act stops them, or fails with fail.
type fakePods struct {
	mu   sync.Mutex
	pods []provision.ListedPod
	acts []string
	fail error
}

func (f *fakePods) Pods(context.Context) ([]provision.ListedPod, map[string]error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]provision.ListedPod(nil), f.pods...), nil
}

func (f *fakePods) Act(_ context.Context, provider, id string, a provision.Action) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acts = append(f.acts, string(a)+" "+provider+"/"+id)
	if f.fail != nil {
		return f.fail
	}
	for i := range f.pods {
		if f.pods[i].Provider == provider && f.pods[i].ID == id {
			f.pods[i].Status = provision.StatusExited
		}
	}
	return nil
}

func (f *fakePods) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.acts...)
}

type rig struct {
	db       *sql.DB
	audit    *audit.Log
	pods     *fakePods
	alerts   []Alert
	muted    bool
	notified []Record
	now      time.Time
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	db, err := alertdb.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log, err := audit.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{db: db, audit: log, now: t0, pods: &fakePods{pods: []provision.ListedPod{
		{Provider: "local", Pod: provision.Pod{ID: "p1", Name: "idle-one", Status: provision.StatusRunning}},
	}}}
	return r
}

func (r *rig) enforcer(t *testing.T, ps ...Policy) *Enforcer {
	t.Helper()
	e, err := New(context.Background(), Options{
		Policies: ps,
		Alerts:   func() []Alert { return r.alerts },
		Muted:    func(map[string]string) bool { return r.muted },
		Pods:     r.pods,
		Audit:    r.audit,
		Notify:   func(_ context.Context, rec Record) { r.notified = append(r.notified, rec) },
		DB:       r.db,
		Now:      func() time.Time { return r.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func idleAlert(policy string, firedAt time.Time) Alert {
	return Alert{Labels: map[string]string{"alertname": AlertName, labelPolicy: policy, "provider": "local", "pod_id": "p1", "pod_name": "idle-one", "instance": "a:9400"},
		FiredAt: firedAt, Value: 0.4}
}

var live = Policy{Name: "quiet", Provider: "local", BelowPercent: 5, For: 30 * time.Minute, Grace: 10 * time.Minute, Action: Stop}

func TestLivePolicyStopsAfterTheGraceOnceAndAudits(t *testing.T) {
	r := newRig(t)
	e := r.enforcer(t, live)
	ctx := context.Background()
	r.alerts = []Alert{idleAlert("quiet", t0)}

	r.now = t0.Add(9 * time.Minute)
	e.Check(ctx)
	if acts := r.pods.actions(); len(acts) != 0 {
		t.Fatalf("acted within the grace: %v", acts)
	}
	r.now = t0.Add(10 * time.Minute)
	e.Check(ctx)
	r.now = t0.Add(11 * time.Minute)
	e.Check(ctx) // the alert is still firing until the series go stale
	if acts := r.pods.actions(); len(acts) != 1 || acts[0] != "stop local/p1" {
		t.Fatalf("actions: %v, want one stop", acts)
	}
	if len(r.notified) != 1 || r.notified[0].Result != ResultDone || r.notified[0].PodName != "idle-one" {
		t.Fatalf("notified: %+v", r.notified)
	}
	entries, err := r.audit.List(ctx, audit.Filter{})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit: %v, %v", entries, err)
	}
	if e := entries[0]; e.User != "idle-policy:quiet" || e.Action != "provision.stop" || e.Target != "local/p1" || e.Result != audit.OK {
		t.Errorf("audit entry: %+v", e)
	}
	recs, err := e.Recent(ctx)
	if err != nil || len(recs) != 1 || recs[0].Result != ResultDone || !recs[0].FiredAt.Equal(t0) {
		t.Fatalf("records: %+v, %v", recs, err)
	}

	// A restarted gpuwd remembers the spell: no second stop, even with
	// the pod resumed and the old alert restored.
	r.pods.pods[0].Status = provision.StatusRunning
	e2 := r.enforcer(t, live)
	e2.Check(ctx)
	if acts := r.pods.actions(); len(acts) != 1 {
		t.Fatalf("a restart acted again: %v", acts)
	}
	// A new spell (fired again later) is acted on.
	r.alerts = []Alert{idleAlert("quiet", t0.Add(time.Hour))}
	r.now = t0.Add(70 * time.Minute)
	e2.Check(ctx)
	if acts := r.pods.actions(); len(acts) != 2 {
		t.Fatalf("a new spell: %v", acts)
	}
}

func TestDryRunOnlyNotifies(t *testing.T) {
	r := newRig(t)
	dry := live
	dry.DryRun = true
	e := r.enforcer(t, dry)
	r.alerts = []Alert{idleAlert("quiet", t0)}
	r.now = t0.Add(time.Hour)
	e.Check(context.Background())
	e.Check(context.Background())
	if acts := r.pods.actions(); len(acts) != 0 {
		t.Fatalf("a dry run acted: %v", acts)
	}
	if len(r.notified) != 1 || r.notified[0].Result != ResultDryRun || !r.notified[0].DryRun {
		t.Fatalf("notified: %+v", r.notified)
	}
	if entries, _ := r.audit.List(context.Background(), audit.Filter{}); len(entries) != 0 {
		t.Errorf("a dry run wrote the audit log: %+v", entries)
	}
}

func TestSilencedOptedOutAndStoppedPodsAreLeftAlone(t *testing.T) {
	r := newRig(t)
	e := r.enforcer(t, live)
	ctx := context.Background()
	r.now = t0.Add(time.Hour)

	r.alerts = []Alert{idleAlert("quiet", t0), idleAlert("other-policy", t0)}
	r.muted = true
	e.Check(ctx)
	if acts := r.pods.actions(); len(acts) != 0 {
		t.Fatalf("acted on a silenced alert: %v", acts)
	}
	r.pods.pods[0].Status = provision.StatusExited
	r.muted = false
	e.Check(ctx)
	if acts := r.pods.actions(); len(acts) != 0 {
		t.Fatalf("acted on a stopped pod: %v", acts)
	}
	r.pods.pods[0].Status = provision.StatusRunning
	e.Check(ctx) // the silence expired: the spell is acted on
	if acts := r.pods.actions(); len(acts) != 1 {
		t.Fatalf("after the silence: %v", acts)
	}
}

func TestFailedActionIsRetriedThenLeftToAPerson(t *testing.T) {
	r := newRig(t)
	r.pods.fail = errors.New("runpod: HTTP 500")
	e := r.enforcer(t, live)
	ctx := context.Background()
	r.alerts = []Alert{idleAlert("quiet", t0)}
	for m := 10; m <= 60; m++ {
		r.now = t0.Add(time.Duration(m) * time.Minute)
		e.Check(ctx)
	}
	if acts := r.pods.actions(); len(acts) != maxAttempts {
		t.Fatalf("attempts: %v, want %d", acts, maxAttempts)
	}
	if len(r.notified) != maxAttempts || r.notified[2].Result != ResultFailed || r.notified[2].Error == "" || r.notified[2].Attempts != 3 {
		t.Fatalf("notified: %+v", r.notified)
	}
	entries, _ := r.audit.List(ctx, audit.Filter{})
	if len(entries) != maxAttempts || entries[0].Result == audit.OK {
		t.Errorf("audit: %+v", entries)
	}
}

// failingAuditor cannot write.
type failingAuditor struct{}

func (failingAuditor) Begin(context.Context, audit.Entry) (func(error), error) {
	return nil, errors.New("disk full")
}

func TestNoAuditNoAction(t *testing.T) {
	r := newRig(t)
	e, err := New(context.Background(), Options{Policies: []Policy{live}, Alerts: func() []Alert { return []Alert{idleAlert("quiet", t0)} },
		Pods: r.pods, Audit: failingAuditor{}, DB: r.db, Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	e.Check(context.Background())
	if acts := r.pods.actions(); len(acts) != 0 {
		t.Fatalf("acted without an audit entry: %v", acts)
	}
}
