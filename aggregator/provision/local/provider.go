package local

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
	"github.com/gpu-watchdog/gpu-watchdog/internal/nodens"
)

// Grace periods: an agent leaving Slurm takes a few seconds.
const (
	stopGrace      = 30 * time.Second
	terminateGrace = 5 * time.Second
)

// Provider launches pods as agent processes on this machine.
type Provider struct {
	cfg    Config
	log    *slog.Logger
	net    *nodens.Network // nil without namespaces
	mu     sync.Mutex
	pods   map[string]*pod
	closed bool // no agent starts any more
}

var _ provision.Provider = (*Provider)(nil)

// New opens the provider over cfg.Dir. Pods found there from an earlier run
// are EXITED: Resume starts them again.
func New(cfg Config) (*Provider, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("local provider: %w", err)
	}
	recs, err := loadRecords(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("local provider: %w", err)
	}
	p := &Provider{cfg: cfg, log: cfg.Logger.With("provider", "local"), pods: map[string]*pod{}}
	for _, r := range recs {
		p.pods[r.ID] = &pod{rec: r, status: provision.StatusExited}
	}
	if cfg.Namespaces {
		if p.net, err = nodens.New(); err != nil {
			return nil, fmt.Errorf("local provider: namespaces: %w", err)
		}
	}
	return p, nil
}

// HostAddress is the address pods reach this machine at (the aggregator,
// say): the namespaces' bridge, or loopback without namespaces.
func (p *Provider) HostAddress() string {
	if p.net != nil {
		return p.net.HostIP()
	}
	return "127.0.0.1"
}

// Close stops every pod's agent, and removes the namespaces' network.
func (p *Provider) Close() {
	p.mu.Lock()
	p.closed = true
	var procs []*process
	for _, pd := range p.pods {
		if pd.proc != nil {
			procs = append(procs, pd.proc)
		}
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, proc := range procs {
		wg.Go(func() { p.halt(context.Background(), proc, syscall.SIGTERM, stopGrace) })
	}
	wg.Wait()
	if p.net != nil {
		p.net.Close()
	}
}

// Name is "local".
func (p *Provider) Name() string { return "local" }

// Offers lists the GPU types pods can simulate.
func (p *Provider) Offers(context.Context) ([]provision.Offer, error) {
	return slices.Clone(p.cfg.Offers), nil
}

var podName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Create starts a pod's agent and returns the pod, PROVISIONING until the
// agent serves. A RequestID seen before returns that pod.
func (p *Provider) Create(ctx context.Context, spec provision.PodSpec) (provision.Pod, error) {
	o, ok := p.cfg.offer(spec.GPUType)
	switch {
	case !ok:
		return provision.Pod{}, fmt.Errorf("local provider: no GPU type %q", spec.GPUType)
	case spec.GPUCount < 1 || (o.MaxGPUs > 0 && spec.GPUCount > o.MaxGPUs):
		return provision.Pod{}, fmt.Errorf("local provider: %d GPUs of %s: want 1 to %d", spec.GPUCount, spec.GPUType, o.MaxGPUs)
	case spec.Name != "" && !podName.MatchString(spec.Name):
		return provision.Pod{}, fmt.Errorf("local provider: pod name %q: want letters, digits, ., - or _", spec.Name)
	case spec.Role != provision.RoleNone && p.net == nil:
		return provision.Pod{}, fmt.Errorf("local provider: a %s pod runs Slurm, which needs Namespaces", spec.Role)
	}
	p.mu.Lock()
	if spec.RequestID != "" {
		for _, pd := range p.pods {
			if pd.rec.RequestID == spec.RequestID {
				out := pd.snapshot()
				p.mu.Unlock()
				return out, nil
			}
		}
	}
	id := newID()
	for p.pods[id] != nil {
		id = newID()
	}
	rec := record{ID: id, Name: cmp.Or(spec.Name, id), RequestID: spec.RequestID, GPUType: spec.GPUType,
		GPUCount: spec.GPUCount, Cloud: spec.Cloud, Role: spec.Role, CostPerHour: o.Price(spec.Cloud) * float64(spec.GPUCount),
		Env: spec.Env, CreatedAt: time.Now().UTC()}
	pd := &pod{rec: rec, status: provision.StatusProvisioning}
	pd.op.Lock()
	defer pd.op.Unlock()
	p.pods[id] = pd
	err := saveRecords(p.cfg.Dir, p.pods)
	p.mu.Unlock()
	if err != nil {
		return provision.Pod{}, p.forget(id, err)
	}
	p.log.Info("creating pod", "pod", id, "name", rec.Name, "gpus", spec.GPUCount, "gpu_type", spec.GPUType, "role", spec.Role)
	if err := p.start(pd); err != nil {
		return provision.Pod{}, p.forget(id, err)
	}
	return p.Get(ctx, id)
}

// forget drops a pod whose creation failed, and returns err.
func (p *Provider) forget(id string, err error) error {
	p.mu.Lock()
	delete(p.pods, id)
	_ = saveRecords(p.cfg.Dir, p.pods)
	p.mu.Unlock()
	_ = os.RemoveAll(p.podDir(id))
	return fmt.Errorf("local provider: create: %w", err)
}

// Get returns pod id.
func (p *Provider) Get(_ context.Context, id string) (provision.Pod, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pd, ok := p.pods[id]
	if !ok {
		return provision.Pod{}, notFound(id)
	}
	return pd.snapshot(), nil
}

// List returns every pod, oldest first.
func (p *Provider) List(context.Context) ([]provision.Pod, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]provision.Pod, 0, len(p.pods))
	for _, pd := range p.pods {
		out = append(out, pd.snapshot())
	}
	slices.SortFunc(out, func(a, b provision.Pod) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Stop stops the pod's agent (SIGTERM: it leaves Slurm) and keeps its
// directory; the pod is EXITED.
func (p *Provider) Stop(ctx context.Context, id string) error {
	pd, err := p.lock(id)
	if err != nil {
		return err
	}
	defer pd.op.Unlock()
	p.mu.Lock()
	proc := pd.proc
	pd.status, pd.message = provision.StatusExited, ""
	if proc != nil {
		proc.stopping = true
	}
	p.mu.Unlock()
	if proc != nil {
		p.log.Info("stopping pod", "pod", id)
		p.halt(ctx, proc, syscall.SIGTERM, stopGrace)
	}
	return nil
}

// Resume starts a stopped (or failed) pod's agent again.
func (p *Provider) Resume(_ context.Context, id string) error {
	pd, err := p.lock(id)
	if err != nil {
		return err
	}
	defer pd.op.Unlock()
	p.mu.Lock()
	running := pd.proc != nil
	p.mu.Unlock()
	if running {
		return nil
	}
	p.log.Info("resuming pod", "pod", id)
	if err := p.start(pd); err != nil {
		return fmt.Errorf("local provider: resume %s: %w", id, err)
	}
	return nil
}

// Terminate kills the pod's agent and removes the pod and its directory.
func (p *Provider) Terminate(ctx context.Context, id string) error {
	pd, err := p.lock(id)
	if err != nil {
		return err
	}
	defer pd.op.Unlock()
	p.mu.Lock()
	proc := pd.proc
	p.mu.Unlock()
	if proc != nil {
		p.halt(ctx, proc, syscall.SIGKILL, terminateGrace)
	}
	p.mu.Lock()
	delete(p.pods, id)
	err = saveRecords(p.cfg.Dir, p.pods)
	p.mu.Unlock()
	p.log.Info("terminated pod", "pod", id)
	if rmErr := os.RemoveAll(p.podDir(id)); err == nil {
		err = rmErr
	}
	if err != nil {
		return fmt.Errorf("local provider: terminate %s: %w", id, err)
	}
	return nil
}

// lock finds pod id and takes its op lock; it is gone if terminated
// meanwhile.
func (p *Provider) lock(id string) (*pod, error) {
	p.mu.Lock()
	pd, ok := p.pods[id]
	p.mu.Unlock()
	if !ok {
		return nil, notFound(id)
	}
	pd.op.Lock()
	p.mu.Lock()
	_, ok = p.pods[id]
	p.mu.Unlock()
	if !ok {
		pd.op.Unlock()
		return nil, notFound(id)
	}
	return pd, nil
}

func (p *Provider) podDir(id string) string { return filepath.Join(p.cfg.Dir, id) }

func notFound(id string) error {
	return fmt.Errorf("local provider: pod %s: %w", id, provision.ErrNotFound)
}

func newID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "local-" + hex.EncodeToString(b)
}
