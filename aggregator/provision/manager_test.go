package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
)

// stubProvider makes pods that run once the test says so.
type stubProvider struct {
	mu        sync.Mutex
	pods      map[string]*Pod
	createErr error
	listErr   error
	specs     []PodSpec
}

func (p *stubProvider) Name() string                            { return "stub" }
func (p *stubProvider) Offers(context.Context) ([]Offer, error) { return nil, nil }
func (p *stubProvider) Create(_ context.Context, s PodSpec) (Pod, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.createErr != nil {
		return Pod{}, p.createErr
	}
	p.specs = append(p.specs, s)
	pod := &Pod{ID: fmt.Sprintf("pod-%d", len(p.pods)+1), Name: s.Name, RequestID: s.RequestID, Status: StatusProvisioning}
	p.pods[pod.ID] = pod
	return *pod, nil
}
func (p *stubProvider) Get(_ context.Context, id string) (Pod, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pod, ok := p.pods[id]; ok {
		return *pod, nil
	}
	return Pod{}, fmt.Errorf("pod %s: %w", id, ErrNotFound)
}
func (p *stubProvider) List(context.Context) ([]Pod, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listErr != nil {
		return nil, p.listErr
	}
	var out []Pod
	for _, pod := range p.pods {
		out = append(out, *pod)
	}
	return out, nil
}
func (p *stubProvider) Stop(context.Context, string) error   { return nil }
func (p *stubProvider) Resume(context.Context, string) error { return nil }
func (p *stubProvider) Terminate(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pods, id)
	return nil
}

func (p *stubProvider) created() []PodSpec {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PodSpec(nil), p.specs...)
}

func (p *stubProvider) set(id string, s Status, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pods[id].Status, p.pods[id].Message = s, msg
}

// stubFleet says which pods have registered and what Slurm says of nodes.
type stubFleet struct {
	mu     sync.Mutex
	agents map[string]string // pod → node
	slurm  map[string]string // node → state
}

func (f *stubFleet) PodAgent(pod string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.agents[pod]
	return n, ok
}

func (f *stubFleet) SlurmNodeState(_ context.Context, node string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.slurm[node], nil
}

func (f *stubFleet) set(pod, node, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.agents[pod], f.slurm[node] = node, state
}

func newTestManager(t *testing.T, dir string, p Provider, f Fleet) (*Manager, context.CancelFunc) {
	return newTestManagerJoin(t, dir, p, f, Join{AggregatorURL: "http://agg:9300", RegistrationToken: "reg-secret", ConfServer: "10.0.0.5", MungeKey: "munge-secret"})
}

func newTestManagerJoin(t *testing.T, dir string, p Provider, f Fleet, join Join) (*Manager, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := alertdb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(ctx, Options{Providers: []Provider{p}, DB: db, Fleet: f, Poll: time.Millisecond, Join: join})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done; db.Close() }
	t.Cleanup(stop)
	return m, stop
}

// waitStage waits until launch id reaches stage s.
func waitStage(t *testing.T, m *Manager, id string, s Stage) Launch {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if l, _ := m.Get(id); l.Stage == s {
			return l
		}
	}
	l, _ := m.Get(id)
	t.Fatalf("launch %s at %s (%s), want %s", id, l.Stage, l.Error, s)
	return l
}

func TestALaunchGoesThroughEveryStage(t *testing.T) {
	p, f := &stubProvider{pods: map[string]*Pod{}}, &stubFleet{agents: map[string]string{}, slurm: map[string]string{}}
	dir := t.TempDir()
	m, stop := newTestManager(t, dir, p, f)
	ls, err := m.Launch(context.Background(), Request{Provider: "stub", GPUType: "h100", GPUCount: 8, Count: 2,
		Cloud: CloudSecure, Role: RoleWorker, Name: "train", User: "ada"})
	if err != nil || len(ls) != 2 {
		t.Fatalf("launch: %v %v", ls, err)
	}
	if ls[0].Spec.Name != "train-1" || ls[1].Spec.Name != "train-2" {
		t.Errorf("names %q %q", ls[0].Spec.Name, ls[1].Spec.Name)
	}
	l := waitStage(t, m, ls[0].ID, StageProvisioning)
	env := p.created()[0].Env
	if env[RequestIDEnv] == "" || env["GPUWD_SLURM_ROLE"] != "worker" || env["GPUWD_SLURM_CONF_SERVER"] != "10.0.0.5" ||
		env["GPUWD_MUNGE_KEY"] != "munge-secret" || env["GPUWD_AGGREGATOR_URL"] != "http://agg:9300" {
		t.Errorf("the pod's env: %v", env)
	}
	p.set(l.PodID, StatusRunning, "")
	waitStage(t, m, l.ID, StageRunning)
	f.set(l.PodID, "train-1", "idle*") // registered; Slurm has not heard from it yet
	l = waitStage(t, m, l.ID, StageRegistered)
	if l.Node != "train-1" {
		t.Errorf("node %q", l.Node)
	}
	f.set(l.PodID, "train-1", "idle")
	l = waitStage(t, m, l.ID, StageSlurmIdle)
	for i, s := range Stages {
		if l.At(s).IsZero() || i > 0 && l.At(s).Before(l.At(Stages[i-1])) {
			t.Errorf("stage %s reached at %v", s, l.At(s))
		}
	}

	// The second launch fails where its pod does: the failure and the
	// finished launch survive a restart, and secrets are not stored.
	other := waitStage(t, m, ls[1].ID, StageProvisioning)
	p.set(other.PodID, StatusError, "no GPU left on the host")
	other = waitStage(t, m, ls[1].ID, StageFailed)
	if !strings.Contains(other.Error, "no GPU left on the host") {
		t.Errorf("failure %q", other.Error)
	}
	stop()
	db, err := alertdb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var specs string
	if err := db.QueryRow("SELECT group_concat(spec) FROM provision_launches").Scan(&specs); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(specs, "secret") {
		t.Errorf("secrets stored with the launches: %s", specs)
	}
	m2, err := New(context.Background(), Options{Providers: []Provider{p}, DB: db, Fleet: f})
	if err != nil {
		t.Fatal(err)
	}
	got := m2.Launches()
	if len(got) != 2 {
		t.Fatalf("%d launches after a restart", len(got))
	}
	for _, g := range got {
		want := map[string]Stage{ls[0].ID: StageSlurmIdle, ls[1].ID: StageFailed}[g.ID]
		if g.Stage != want || g.User != "ada" {
			t.Errorf("after a restart %s is %s by %q, want %s by ada", g.Spec.Name, g.Stage, g.User, want)
		}
	}
}

func TestALaunchUnderWayGoesOnAfterARestart(t *testing.T) {
	p, f := &stubProvider{pods: map[string]*Pod{}}, &stubFleet{agents: map[string]string{}, slurm: map[string]string{}}
	dir := t.TempDir()
	m, stop := newTestManager(t, dir, p, f)
	ls, err := m.Launch(context.Background(), Request{Provider: "stub", GPUType: "h100", GPUCount: 1, Count: 1, Cloud: CloudAll})
	if err != nil {
		t.Fatal(err)
	}
	l := waitStage(t, m, ls[0].ID, StageProvisioning)
	stop()
	p.set(l.PodID, StatusRunning, "")
	f.set(l.PodID, "node-a", "")
	m, _ = newTestManager(t, dir, p, f)
	// No Slurm role: registered is ready.
	if l = waitStage(t, m, l.ID, StageRegistered); !l.Done() {
		t.Errorf("a pod outside Slurm is not done when registered")
	}
	if n := len(p.created()); n != 1 {
		t.Errorf("%d pods created, want 1", n)
	}
}

func TestLaunchRefusesBadRequestsAndReportsProviderErrors(t *testing.T) {
	p, f := &stubProvider{pods: map[string]*Pod{}}, &stubFleet{}
	m, _ := newTestManager(t, t.TempDir(), p, f)
	for _, r := range []Request{
		{Provider: "stub", GPUCount: 1, Count: 1, Cloud: CloudAll},                                    // no GPU type
		{Provider: "stub", GPUType: "h100", GPUCount: 0, Count: 1, Cloud: CloudAll},                   // no GPUs
		{Provider: "stub", GPUType: "h100", GPUCount: 1, Count: 2, Cloud: CloudAll, Role: RoleHead},   // two heads
		{Provider: "stub", GPUType: "h100", GPUCount: 1, Count: 1, Cloud: "MOON"},                     // cloud
		{Provider: "nope", GPUType: "h100", GPUCount: 1, Count: 1, Cloud: CloudAll},                   // provider
		{Provider: "stub", GPUType: "h100", GPUCount: 1, Count: 1, Cloud: CloudAll, Name: "Bad Name"}, // name
	} {
		if _, err := m.Launch(context.Background(), r); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", r, err)
		}
	}
	p.createErr = errors.New("graphql: There are no longer any instances available with the requested specifications")
	ls, err := m.Launch(context.Background(), Request{Provider: "stub", GPUType: "h100", GPUCount: 1, Count: 1, Cloud: CloudAll})
	if err != nil {
		t.Fatal(err)
	}
	if l := waitStage(t, m, ls[0].ID, StageFailed); !strings.Contains(l.Error, "no longer any instances") {
		t.Errorf("failure %q", l.Error)
	}
}

func TestAFailedListingKeepsTheLastPods(t *testing.T) {
	p, f := &stubProvider{pods: map[string]*Pod{}}, &stubFleet{agents: map[string]string{}, slurm: map[string]string{}}
	m, _ := newTestManager(t, t.TempDir(), p, f)
	ls, err := m.Launch(context.Background(), Request{Provider: "stub", GPUType: "h100", GPUCount: 1, Count: 1, Cloud: CloudAll})
	if err != nil {
		t.Fatal(err)
	}
	l := waitStage(t, m, ls[0].ID, StageProvisioning)
	m.list(context.Background(), "stub")
	if pods, _ := m.Pods(context.Background()); len(pods) != 1 {
		t.Fatalf("listed %+v", pods)
	}
	// Stopping lists again at once: the failure shows beside the pods
	// listed before.
	p.mu.Lock()
	p.listErr = errors.New("runpod: 503 Service Unavailable")
	p.mu.Unlock()
	if err := m.Act(context.Background(), "stub", l.PodID, ActionStop); err != nil {
		t.Fatal(err)
	}
	pods, errs := m.Pods(context.Background())
	if len(pods) != 1 || pods[0].ID != l.PodID || pods[0].Provider != "stub" {
		t.Errorf("pods after a failed listing: %+v", pods)
	}
	if !strings.Contains(fmt.Sprint(errs["stub"]), "503") {
		t.Errorf("listing errors: %v", errs)
	}
}

// Without a configured conf server, workers join the newest head launched
// on their provider once it has registered; before that they are refused.
func TestWorkersJoinTheHeadLaunchedBefore(t *testing.T) {
	p, f := &stubProvider{pods: map[string]*Pod{}}, &stubFleet{agents: map[string]string{}, slurm: map[string]string{}}
	m, _ := newTestManagerJoin(t, t.TempDir(), p, f, Join{AggregatorURL: "http://agg:9300", RegistrationToken: "reg-secret", MungeKey: "munge-secret"})
	ctx := context.Background()
	worker := Request{Provider: "stub", GPUType: "h100", GPUCount: 1, Count: 1, Cloud: CloudAll, Role: RoleWorker}
	if _, err := m.Launch(ctx, worker); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "launch a head on stub first") {
		t.Fatalf("a worker without a head: %v", err)
	}
	hs, err := m.Launch(ctx, Request{Provider: "stub", GPUType: "h100", GPUCount: 1, Count: 1, Cloud: CloudAll, Role: RoleHead, Name: "head"})
	if err != nil {
		t.Fatal(err)
	}
	h := waitStage(t, m, hs[0].ID, StageProvisioning)
	p.mu.Lock()
	p.pods[h.PodID].Status, p.pods[h.PodID].Address = StatusRunning, "10.77.0.2"
	p.mu.Unlock()
	f.set(h.PodID, "head", "")
	waitStage(t, m, h.ID, StageRegistered)

	ws, err := m.Launch(ctx, worker)
	if err != nil {
		t.Fatalf("a worker after the head registered: %v", err)
	}
	waitStage(t, m, ws[0].ID, StageProvisioning)
	specs := p.created()
	if env := specs[len(specs)-1].Env; env["GPUWD_SLURM_CONF_SERVER"] != "10.77.0.2" || env["GPUWD_MUNGE_KEY"] != "munge-secret" {
		t.Errorf("the worker's env: %v", env)
	}
	if env := specs[0].Env; env["GPUWD_SLURM_ROLE"] != "head" || env["GPUWD_MUNGE_KEY"] != "munge-secret" {
		t.Errorf("the head's env: %v", env)
	}
}

// offersProvider answers Offers as its func says.
type offersProvider struct {
	stubProvider
	offers func(context.Context) ([]Offer, error)
}

func (p *offersProvider) Offers(ctx context.Context) ([]Offer, error) { return p.offers(ctx) }

// A provider that fails or hangs on its GPU types never holds a page for
// long: the page gets an error at once (or after offersWait the first
// time), the last good offers are kept through a failure, and a failure is
// asked again after offersRetry, not on every page.
func TestOffersNeverHoldAPage(t *testing.T) {
	var mu sync.Mutex
	calls, fail, hang := 0, false, make(chan struct{})
	close(hang)
	p := &offersProvider{stubProvider: stubProvider{pods: map[string]*Pod{}}, offers: func(ctx context.Context) ([]Offer, error) {
		mu.Lock()
		calls++
		f, h := fail, hang
		mu.Unlock()
		select {
		case <-h:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if f {
			return nil, errors.New("runpod gpuTypes: HTTP 429")
		}
		return []Offer{{GPUType: "h100", SecurePrice: 2.69}}, nil
	}}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ctx := context.Background()
	db, err := alertdb.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, err := New(ctx, Options{Providers: []Provider{p}, DB: db, Fleet: &stubFleet{}, Now: clock, Join: Join{RegistrationToken: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if os, err := m.Offers(ctx, "stub"); err != nil || len(os) != 1 {
		t.Fatalf("first ask: %v %v", os, err)
	}

	// Stale, and the provider now hangs then fails: the page gets the last
	// good offers at once while the provider is asked in the background.
	mu.Lock()
	fail, hang = true, make(chan struct{})
	release := hang
	mu.Unlock()
	advance(offersTTL + time.Second)
	if os, err := m.Offers(ctx, "stub"); err != nil || len(os) != 1 {
		t.Fatalf("while the provider hangs: %v %v", os, err)
	}
	close(release)
	waitFor(t, func() bool { m.listMu.Lock(); defer m.listMu.Unlock(); return m.offers["stub"].err != nil })
	if os, err := m.Offers(ctx, "stub"); err != nil || len(os) != 1 {
		t.Fatalf("after a failure the last offers stay: %v %v", os, err)
	}
	mu.Lock()
	n := calls
	mu.Unlock()
	for range 5 {
		m.Offers(ctx, "stub")
	}
	mu.Lock()
	if calls != n {
		t.Errorf("a failed provider was asked on every page: %d calls, want %d", calls, n)
	}
	mu.Unlock()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition never held")
}
