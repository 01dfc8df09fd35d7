package provision

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Fleet is what the manager watches to know a launched pod has joined.
type Fleet interface {
	// PodAgent returns the node name of the agent registered from the pod,
	// and whether one has.
	PodAgent(podID string) (node string, ok bool)
	// SlurmNodeState is the node's state as the Slurm head reports it
	// (sinfo's long form: "idle", "mixed", "down*"), "" while unknown.
	SlurmNodeState(ctx context.Context, node string) (string, error)
}

// Options configure a Manager.
type Options struct {
	Providers []Provider
	// DB keeps the launches (the aggregator's alerts.db).
	DB    *sql.DB
	Fleet Fleet
	// Join is what launched pods need to join the fleet; ProviderJoin
	// replaces it for the pods of some providers (local pods reach the
	// aggregator at another address than cloud pods).
	Join         Join
	ProviderJoin map[string]Join
	// Poll is how often a launch under way is checked (default 1s).
	Poll time.Duration
	// Timeout fails a launch not ready this long after it was asked for
	// (default 20m: RunPod pulls a large image in minutes).
	Timeout time.Duration
	// History is how long finished launches are listed (default 7 days).
	History time.Duration
	Logger  *slog.Logger
	Now     func() time.Time
}

// Manager launches pods and follows them until they are ready.
type Manager struct {
	opts      Options
	db        *launchDB
	providers map[string]Provider

	mu       sync.Mutex
	launches map[string]*Launch
	runCtx   context.Context // set by Run; followers started before wait for it
	started  chan struct{}
	running  sync.WaitGroup // followers

	listMu sync.Mutex
	lists  map[string]podList   // provider → its last pod list
	offers map[string]offerList // provider → its GPU types
}

// New opens the launches table and loads recent launches; Run follows the
// ones still under way.
func New(ctx context.Context, o Options) (*Manager, error) {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Minute
	}
	if o.History <= 0 {
		o.History = 7 * 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Manager{opts: o, providers: map[string]Provider{}, launches: map[string]*Launch{},
		started: make(chan struct{}), lists: map[string]podList{}, offers: map[string]offerList{}}
	for _, p := range o.Providers {
		if _, dup := m.providers[p.Name()]; dup {
			return nil, fmt.Errorf("provision: provider %q configured twice", p.Name())
		}
		m.providers[p.Name()] = p
	}
	var err error
	if m.db, err = openLaunchDB(ctx, o.DB); err != nil {
		return nil, err
	}
	recent, err := m.db.recent(ctx, o.Now().Add(-o.History))
	if err != nil {
		return nil, err
	}
	for _, l := range recent {
		m.launches[l.ID] = &l
	}
	return m, nil
}

// Providers names the configured providers, sorted.
func (m *Manager) Providers() []string { return slices.Sorted(maps.Keys(m.providers)) }

// Provider returns the provider called name.
func (m *Manager) Provider(name string) (Provider, error) {
	p, ok := m.providers[name]
	if !ok {
		return nil, fmt.Errorf("provision: no provider %q (configured: %s)", name, strings.Join(m.Providers(), ", "))
	}
	return p, nil
}

// Run follows launches until ctx ends, and returns once every follower has.
func (m *Manager) Run(ctx context.Context) {
	m.mu.Lock()
	m.runCtx = ctx
	var under []string
	for id, l := range m.launches {
		if !l.Done() {
			under = append(under, id)
		}
	}
	m.mu.Unlock()
	close(m.started)
	for _, id := range under {
		m.running.Go(func() { m.follow(ctx, id) })
	}
	m.running.Go(func() { m.lister(ctx) })
	<-ctx.Done()
	m.running.Wait()
}

// Request is what someone asks to launch: Count pods alike.
type Request struct {
	Provider string
	GPUType  string
	GPUCount int // per pod
	Count    int // pods
	Cloud    Cloud
	Role     Role
	Name     string // pods are called Name-1, Name-2… (default gpuwd)
	Image    string // default: the provider's
	User     string
}

// Check says what is wrong with r, field by field ("" when nothing).
func (r Request) Check() map[string]string {
	bad := map[string]string{}
	if r.GPUType == "" {
		bad["gpu_type"] = "choose a GPU type"
	}
	if r.GPUCount < 1 || r.GPUCount > 16 {
		bad["gpu_count"] = "GPUs per pod must be 1 to 16"
	}
	if r.Count < 1 || r.Count > 32 {
		bad["count"] = "pods must be 1 to 32"
	}
	switch r.Cloud {
	case CloudAll, CloudSecure, CloudCommunity:
	default:
		bad["cloud"] = "cloud must be ALL, SECURE or COMMUNITY"
	}
	switch r.Role {
	case RoleNone, RoleWorker:
	case RoleHead:
		if r.Count > 1 {
			bad["role"] = "a cluster has one head: launch it alone"
		}
	default:
		bad["role"] = "role must be head, worker or none"
	}
	if r.Name != "" && !validName(r.Name) {
		bad["name"] = "names are lower-case letters, digits and dashes, up to 40"
	}
	return bad
}

func validName(s string) bool {
	if len(s) > 40 || s[0] == '-' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ErrInvalid is wrapped by Launch when the request does not check out.
var ErrInvalid = errors.New("invalid launch request")

// Launch records r's pods as requested and starts them; Launches shows
// their progress.
func (m *Manager) Launch(ctx context.Context, r Request) ([]Launch, error) {
	if bad := r.Check(); len(bad) > 0 {
		var msgs []string
		for _, k := range slices.Sorted(maps.Keys(bad)) {
			msgs = append(msgs, k+": "+bad[k])
		}
		return nil, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(msgs, "; "))
	}
	if _, err := m.Provider(r.Provider); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	join, ok := m.opts.ProviderJoin[r.Provider]
	if !ok {
		join = m.opts.Join
	}
	confServer := ""
	if r.Role == RoleWorker && join.ConfServer == "" {
		var ok bool
		if confServer, ok = m.launchedHead(ctx, r.Provider); !ok {
			return nil, fmt.Errorf("%w: workers need a Slurm head: launch a head on %s first and wait until it has registered, or set provision.join.slurm_conf_server",
				ErrInvalid, r.Provider)
		}
	}
	name := cmp.Or(r.Name, "gpuwd")
	now := m.opts.Now()
	var out []Launch
	for i := range r.Count {
		id := newRequestID()
		l := Launch{ID: id, Provider: r.Provider, User: r.User, Stage: StageRequested,
			Reached: map[Stage]time.Time{StageRequested: now},
			Spec: PodSpec{RequestID: id, Name: fmt.Sprintf("%s-%s", name, id[:6]), GPUType: r.GPUType,
				GPUCount: r.GPUCount, Cloud: r.Cloud, Role: r.Role, Image: r.Image, ConfServer: confServer}}
		if r.Count == 1 && r.Name != "" {
			l.Spec.Name = r.Name
		} else if r.Count > 1 && r.Name != "" {
			l.Spec.Name = fmt.Sprintf("%s-%d", r.Name, i+1)
		}
		if err := m.db.save(ctx, l); err != nil {
			return out, err
		}
		m.mu.Lock()
		m.launches[id] = &l
		m.mu.Unlock()
		out = append(out, l)
		m.running.Go(func() {
			<-m.started
			m.follow(m.runCtx, id)
		})
	}
	return out, nil
}

// launchedHead is the address of the newest head launched on provider
// that has registered and still runs, as the provider sees it now, for
// workers to join when no conf server is configured.
func (m *Manager) launchedHead(ctx context.Context, provider string) (string, bool) {
	p, err := m.Provider(provider)
	if err != nil {
		return "", false
	}
	m.mu.Lock()
	var heads []Launch
	for _, l := range m.launches {
		if l.Provider == provider && l.Spec.Role == RoleHead && (l.Stage == StageRegistered || l.Stage == StageSlurmIdle) {
			heads = append(heads, *l)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(heads, func(a, b Launch) int { return b.At(StageRequested).Compare(a.At(StageRequested)) })
	for _, h := range heads {
		if pod, err := p.Get(ctx, h.PodID); err == nil && pod.Status == StatusRunning && pod.Address != "" {
			return pod.Address, true
		}
	}
	return "", false
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Launches lists the recent launches, newest first.
func (m *Manager) Launches() []Launch {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Launch, 0, len(m.launches))
	for _, l := range m.launches {
		c := *l
		c.Reached = maps.Clone(l.Reached)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Launch) int {
		return cmp.Or(b.At(StageRequested).Compare(a.At(StageRequested)), cmp.Compare(a.Spec.Name, b.Spec.Name))
	})
	return out
}

// Get returns one launch.
func (m *Manager) Get(id string) (Launch, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.launches[id]
	if !ok {
		return Launch{}, false
	}
	c := *l
	c.Reached = maps.Clone(l.Reached)
	return c, true
}
