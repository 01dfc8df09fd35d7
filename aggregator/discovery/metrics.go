package discovery

import "github.com/prometheus/client_golang/prometheus"

// metrics are the discovery series on the aggregator's own /metrics.
type metrics struct {
	fileReadErrors prometheus.Counter
	targets        *prometheus.GaugeVec
	registrations  *prometheus.CounterVec
	persistErrors  prometheus.Counter
	forgotten      prometheus.Counter
}

func newMetrics(r prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		fileReadErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gpuwd_sd_file_read_errors_total",
			Help: "file_sd files that could not be read or parsed (their previous targets were kept).",
		}),
		targets: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gpuwd_sd_targets",
			Help: "Targets discovered, by source (static, file_sd, registered), after de-duplication.",
		}, []string{"source"}),
		registrations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpuwd_sd_agent_requests_total",
			Help: "Agent registration API requests, by endpoint and HTTP status code.",
		}, []string{"endpoint", "code"}),
		persistErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gpuwd_sd_persist_errors_total",
			Help: "Failed writes of registered agents to the store (retried).",
		}),
		forgotten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gpuwd_sd_agents_forgotten_total",
			Help: "Registered agents dropped after registration.forget_after without a heartbeat.",
		}),
	}
	for _, src := range []string{"static", "file_sd", "registered", "provisioned"} {
		m.targets.WithLabelValues(src)
	}
	if r != nil {
		for _, c := range []prometheus.Collector{m.fileReadErrors, m.targets, m.registrations, m.persistErrors, m.forgotten} {
			if err := r.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
