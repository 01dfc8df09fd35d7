package remotewrite

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Why samples are dropped (the reason label).
const (
	reasonRejected   = "rejected"    // the receiver answered 4xx other than 429
	reasonQueueFull  = "queue_full"  // the queue file reached MaxQueueBytes
	reasonMemoryFull = "memory_full" // MaxMemoryBytes reached while the queue file could not take them
	reasonClosed     = "closed"      // appended after Close, or unwritable at Close
)

// metrics are a queue's own series, labelled remote=<name>, so that several
// endpoints share the names.
type metrics struct {
	reg         prometheus.Registerer // nil: not registered
	collectors  []prometheus.Collector
	sent        prometheus.Counter
	failed      prometheus.Counter
	drops       *prometheus.CounterVec
	duration    prometheus.Histogram
	writeErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, q *Queue) (*metrics, error) {
	m := &metrics{
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "gpuwd_remote_write_samples_sent_total",
			Help: "Samples the remote-write receiver accepted (2xx)."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "gpuwd_remote_write_samples_failed_total",
			Help: "Samples in requests that failed with a retryable error (network, 5xx, 429), once per attempt; they are sent again."}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpuwd_remote_write_samples_dropped_total",
			Help: "Samples given up on, by reason (rejected: 4xx from the receiver; queue_full: max queue bytes; memory_full: the queue file could not be written; closed: after shutdown)."},
			[]string{"reason"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gpuwd_remote_write_send_duration_seconds",
			Help:    "Duration of one remote-write request, failed ones included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "gpuwd_remote_write_queue_write_errors_total",
			Help: "Failed writes of batches to the queue file (e.g. disk full); the batches wait in memory and the write is retried."}),
	}
	for _, r := range []string{reasonRejected, reasonQueueFull, reasonMemoryFull, reasonClosed} {
		m.drops.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	m.reg = prometheus.WrapRegistererWith(prometheus.Labels{"remote": q.name}, reg)
	gauge := func(name, help string, f func(s Status) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(q.Status()) })
	}
	for _, c := range []prometheus.Collector{m.sent, m.failed, m.drops, m.duration, m.writeErrors,
		gauge("gpuwd_remote_write_pending_bytes", "Bytes of compressed requests in the queue file waiting to be sent.",
			func(s Status) float64 { return float64(s.PendingBytes) }),
		gauge("gpuwd_remote_write_pending_samples", "Samples not yet delivered: in the queue file and in memory.",
			func(s Status) float64 { return float64(s.PendingSamples) }),
		gauge("gpuwd_remote_write_lag_seconds", "Age of the oldest sample not yet delivered (0 when none is waiting).",
			func(s Status) float64 { return s.Lag().Seconds() }),
	} {
		if err := m.reg.Register(c); err != nil {
			m.unregister()
			if errors.As(err, &prometheus.AlreadyRegisteredError{}) {
				return nil, fmt.Errorf("metrics: another remote write is named %q", q.name)
			}
			return nil, fmt.Errorf("metrics: %w", err)
		}
		m.collectors = append(m.collectors, c)
	}
	return m, nil
}

func (m *metrics) dropped(reason string, samples int) {
	m.drops.WithLabelValues(reason).Add(float64(samples))
}

// unregister lets a queue of the same name be created again (a restart
// within the process, a reloaded configuration).
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
	m.collectors = nil
}
