package discovery

import (
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// Agent is a self-registered agent as the aggregator remembers it (and as
// it is stored, in JSON, under "agent/<url>").
type Agent struct {
	// URL is the metrics URL the agent advertised, in the canonical form of
	// target.Target.URL (explicit port), which identifies the agent.
	URL        string            `json:"url"`
	Node       string            `json:"node,omitempty"`
	PodID      string            `json:"pod_id,omitempty"`
	Version    string            `json:"version,omitempty"`
	GPUs       int               `json:"gpus"`
	GPUModels  []string          `json:"gpu_models,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	RemoteAddr string            `json:"remote_addr,omitempty"` // host the last registration came from
	FirstSeen  time.Time         `json:"first_seen"`
	LastSeen   time.Time         `json:"last_seen"`
}

// sameFacts reports whether two records differ only in when they were seen.
func (a Agent) sameFacts(b Agent) bool {
	a.FirstSeen, a.LastSeen, b.FirstSeen, b.LastSeen = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

// target is the agent as a target of job.
func (a Agent) target(job string) (target.Target, error) {
	t, err := target.FromURL(job, a.URL)
	if err != nil {
		return t, err
	}
	if len(a.Labels) > 0 {
		t.Labels = maps.Clone(a.Labels)
	}
	t.Meta = map[string]string{"gpuwd_gpus": strconv.Itoa(a.GPUs)}
	for k, v := range map[string]string{
		"gpuwd_node": a.Node, "gpuwd_pod_id": a.PodID, "gpuwd_version": a.Version,
		"gpuwd_gpu_models": strings.Join(a.GPUModels, ","),
	} {
		if v != "" {
			t.Meta[k] = v
		}
	}
	t.Source = SourceRegistered
	return t, nil
}

// registry holds the self-registered agents. Memory is the truth; the KV
// store is written through on every change and caught up with last-seen
// times every persistEvery (see persist.go).
type registry struct {
	log          *slog.Logger
	m            *metrics
	now          func() time.Time
	kv           KV // nil: nothing persisted
	persistEvery time.Duration
	onChange     func()

	mu             sync.Mutex
	settings       regSettings
	agents         map[string]*agentState // by Agent.URL
	pendingDeletes map[string]bool        // removed agents whose KV delete failed

	kvMu sync.Mutex // orders KV writes (see save and deleteStored)
}

// regSettings come from the configuration and change with it.
type regSettings struct {
	enabled     bool     // a token is configured
	tokenSum    [32]byte // SHA-256 of the token
	job         string
	heartbeat   time.Duration
	forgetAfter time.Duration
}

type agentState struct {
	Agent
	version       uint64 // bumped when a fact other than last-seen changes
	savedVersion  uint64
	savedLastSeen time.Time
}

func (r *registry) settingsNow() regSettings {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.settings
}

func (r *registry) configure(s regSettings) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settings = s
}

// upsert records a registration. It reports whether the agent's facts
// changed (so it must be saved now and the target set may have changed).
func (r *registry) upsert(a Agent) (created, changed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pendingDeletes, a.URL)
	st := r.agents[a.URL]
	if st == nil {
		a.FirstSeen = a.LastSeen
		r.agents[a.URL] = &agentState{Agent: a, version: 1}
		return true, true
	}
	a.FirstSeen = st.FirstSeen
	changed = !st.sameFacts(a)
	st.Agent = a
	if changed {
		st.version++
	}
	return false, changed
}

// remove forgets an agent; it reports whether it was known.
func (r *registry) remove(url string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.agents[url] == nil {
		return false
	}
	delete(r.agents, url)
	r.pendingDeletes[url] = true
	return true
}

// expired removes the agents not heard from for forget_after and returns
// them.
func (r *registry) expired(now time.Time) []Agent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var gone []Agent
	for url, st := range r.agents {
		if now.Sub(st.LastSeen) > r.settings.forgetAfter {
			gone = append(gone, st.Agent)
			delete(r.agents, url)
			r.pendingDeletes[url] = true
		}
	}
	return gone
}

// list returns the agents sorted by URL.
func (r *registry) list() []Agent {
	r.mu.Lock()
	defer r.mu.Unlock()
	as := make([]Agent, 0, len(r.agents))
	for _, url := range slices.Sorted(maps.Keys(r.agents)) {
		as = append(as, r.agents[url].Agent)
	}
	return as
}

// targets are the agents as targets of the registration job, by URL.
func (r *registry) targets() []target.Target {
	job := r.settingsNow().job
	as := r.list()
	ts := make([]target.Target, 0, len(as))
	for _, a := range as {
		t, err := a.target(job)
		if err != nil { // checked at registration and at load
			r.log.Error("registered agent has a bad URL", "url", a.URL, "err", err)
			continue
		}
		ts = append(ts, t)
	}
	return ts
}
