package alertmanager

import "github.com/prometheus/client_golang/prometheus"

// metrics are a Forwarder's series, like Prometheus' notifier's
// (prometheus_notifications_*).
type metrics struct {
	sent          *prometheus.CounterVec
	errors        *prometheus.CounterVec
	dropped       prometheus.Counter
	queueLength   prometheus.Gauge
	queueCapacity prometheus.Gauge
}

func newMetrics(r prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpuwd_alertmanager_alerts_sent_total",
			Help: "Alerts an Alertmanager accepted.",
		}, []string{"alertmanager"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpuwd_alertmanager_errors_total",
			Help: "Alerts that could not be sent to an Alertmanager, retries included.",
		}, []string{"alertmanager"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gpuwd_alertmanager_dropped_total",
			Help: "Alerts dropped before sending: the queue was full, or unsent at shutdown.",
		}),
		queueLength: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gpuwd_alertmanager_queue_length",
			Help: "Alerts waiting to be sent.",
		}),
		queueCapacity: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gpuwd_alertmanager_queue_capacity",
			Help: "How many alerts the queue holds before it drops the oldest.",
		}),
	}
	if r == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.sent, m.errors, m.dropped, m.queueLength, m.queueCapacity} {
		if err := r.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
