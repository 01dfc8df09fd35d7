package agent

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

// Registration timing. The heartbeat is the aggregator's to choose; these
// apply until it has answered, and bound what it may ask for.
const (
	defaultHeartbeat = 30 * time.Second
	minHeartbeat     = time.Second
	maxHeartbeat     = time.Hour
	retryMin         = time.Second
	registerTimeout  = 10 * time.Second
	deregisterWait   = 2 * time.Second
)

// outcome of an attempt; the log says something only when it changes.
type outcome int

const (
	unknown    outcome = iota
	registered         // 200
	failing            // network error, 5xx, …: retried with backoff
	refused            // 401/403: the token (or registration) is refused
	rejected           // other 4xx: the aggregator does not accept what we send
)

// registrar registers the agent with the aggregator and renews the
// registration every heartbeat: the heartbeat is the re-registration, so an
// aggregator that restarted or lost its state learns of the agent again.
type registrar struct {
	logger     *slog.Logger
	client     *http.Client
	aggregator *url.URL
	token      string
	body       registration // URL, Node and PodID filled in once serving
	advertise  advertise
	hostname   string // the machine's, or --hostname
	flagHost   string // --hostname

	// Timing, shortened by tests.
	heartbeat, minHeartbeat, retryMin time.Duration

	attempts     *prometheus.CounterVec
	isRegistered prometheus.Gauge
	lastSuccess  prometheus.Gauge

	mu     sync.Mutex
	status registrationStatus
	state  outcome
	ever   bool // registered (perhaps) at least once: deregister on shutdown
}

// registrationStatus is the registration's part of /api/v1/node.
type registrationStatus struct {
	Aggregator  string `json:"aggregator"`
	URL         string `json:"url,omitempty"`
	Registered  bool   `json:"registered"`
	LastError   string `json:"last_error,omitempty"`
	LastSuccess string `json:"last_success,omitempty"`
}

// newRegistrar returns nil when registration is off. Options are checked.
func newRegistrar(opts Options, logger *slog.Logger, hostname string, gpus []*gpu.GPU, self *prometheus.Registry) *registrar {
	if opts.AggregatorURL == "" {
		return nil
	}
	agg, _ := url.Parse(opts.AggregatorURL)
	labels, _ := parseLabels(opts.RegisterLabels)
	models := []string{}
	for _, g := range gpus {
		if !slices.Contains(models, g.Name) {
			models = append(models, g.Name)
		}
	}
	r := &registrar{
		logger: logger.With("aggregator", redactURL(opts.AggregatorURL)), client: &http.Client{Timeout: registerTimeout},
		aggregator: agg, token: opts.AggregatorToken,
		body:      registration{Version: opts.Version, GPUs: len(gpus), GPUModels: models, Labels: labels},
		advertise: advertise{flag: opts.AdvertiseURL, listen: opts.Listen, tls: opts.TLSCertFile != "", aggregator: agg, lookup: os.LookupEnv},
		hostname:  hostname, flagHost: opts.Hostname,
		heartbeat: defaultHeartbeat, minHeartbeat: minHeartbeat, retryMin: retryMin,
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpuwd_agent_registration_attempts_total",
			Help: "Registrations (and heartbeats) sent to the aggregator, by result."}, []string{"result"}),
		isRegistered: prometheus.NewGauge(prometheus.GaugeOpts{Name: "gpuwd_agent_registered",
			Help: "Whether the last registration with the aggregator succeeded (1) or not (0)."}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "gpuwd_agent_last_registration_timestamp_seconds",
			Help: "Unix time of the last successful registration with the aggregator."}),
		status: registrationStatus{Aggregator: redactURL(opts.AggregatorURL)},
	}
	r.attempts.WithLabelValues("success")
	r.attempts.WithLabelValues("error")
	self.MustRegister(r.attempts, r.isRegistered, r.lastSuccess)
	return r
}

// start registers now and on every heartbeat until the returned function is
// called; that stops the heartbeats and deregisters, waiting at most
// deregisterWait. bound is the address the agent serves on.
func (r *registrar) start(ctx context.Context, bound net.Addr) (stop func()) {
	r.advertise.bound = bound
	r.body.Node = nodeName(r.flagHost, r.hostname, r.advertise.lookup)
	r.body.PodID, _ = r.advertise.lookup("RUNPOD_POD_ID")
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); r.run(ctx) }()
	return func() {
		cancel()
		<-done
		r.deregister()
	}
}

func (r *registrar) run(ctx context.Context) {
	failures := 0
	for {
		res, reply := r.attempt(ctx)
		if ctx.Err() != nil {
			return
		}
		if res == registered {
			r.heartbeat = r.heartbeatOf(reply)
		}
		wait := r.heartbeat
		if res == failing {
			failures++
			wait = min(r.retryMin<<min(failures-1, 30), r.heartbeat)
		} else {
			failures = 0
		}
		t := time.NewTimer(jitter(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// jitter spreads d by ±10% so that a fleet started together does not
// heartbeat in step.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

// attempt registers once and records the result.
func (r *registrar) attempt(ctx context.Context) (outcome, *apiReply) {
	r.mu.Lock()
	advertised := r.status.URL
	r.mu.Unlock()
	if advertised == "" {
		u, err := r.advertise.url(ctx)
		if err != nil {
			r.record(ctx, failing, err, nil)
			return failing, nil
		}
		advertised = u
		r.mu.Lock()
		r.status.URL = u
		r.mu.Unlock()
	}
	body := r.body
	body.URL = advertised
	reply, res, err := r.post(ctx, "register", body)
	r.record(ctx, res, err, reply)
	return res, reply
}

// record updates the metrics and status, and logs a change of outcome.
func (r *registrar) record(ctx context.Context, res outcome, err error, reply *apiReply) {
	if ctx.Err() != nil {
		// Shutting down: the attempt was cut short, not failed, and it may
		// have registered the agent all the same.
		r.mu.Lock()
		r.ever = true
		r.mu.Unlock()
		return
	}
	now := time.Now()
	r.mu.Lock()
	changed := res != r.state
	r.state = res
	r.status.Registered = res == registered
	if res == registered {
		r.ever = true
		r.status.LastError = ""
		r.status.LastSuccess = now.UTC().Format(time.RFC3339)
	} else {
		r.status.LastError = err.Error()
	}
	advertised := redactURL(r.status.URL)
	r.mu.Unlock()

	if res == registered {
		r.attempts.WithLabelValues("success").Inc()
		r.isRegistered.Set(1)
		r.lastSuccess.Set(float64(now.UnixMilli()) / 1000)
	} else {
		r.attempts.WithLabelValues("error").Inc()
		r.isRegistered.Set(0)
	}
	if !changed {
		if err != nil {
			r.logger.Debug("registration still failing", "err", err)
		} else {
			r.logger.Debug("registration renewed")
		}
		return
	}
	switch res {
	case registered:
		r.logger.Info("registered with the aggregator", "url", advertised, "instance", reply.Data.Instance,
			"heartbeat", r.heartbeatOf(reply))
	case refused:
		r.logger.Error("aggregator refused the registration token; retrying every heartbeat", "err", err)
	case rejected:
		r.logger.Error("aggregator rejected the registration; retrying every heartbeat", "url", advertised, "err", err)
	default:
		r.logger.Warn("cannot register with the aggregator; retrying", "err", err)
	}
}

// heartbeatOf is the heartbeat a successful reply asks for, within bounds;
// the current one when it names none.
func (r *registrar) heartbeatOf(reply *apiReply) time.Duration {
	s := reply.Data.HeartbeatSeconds
	if s <= 0 {
		return r.heartbeat
	}
	return max(time.Duration(min(s, maxHeartbeat.Seconds())*float64(time.Second)), r.minHeartbeat)
}

// registrationStatus returns the registration's state, nil when it is off.
func (a *Agent) registrationStatus() *registrationStatus {
	if a.registrar == nil {
		return nil
	}
	a.registrar.mu.Lock()
	defer a.registrar.mu.Unlock()
	s := a.registrar.status
	s.URL = redactURL(s.URL)
	return &s
}
