package dispatch

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requested *prometheus.CounterVec
	failed    *prometheus.CounterVec
}

var (
	alertsDesc = prometheus.NewDesc("gpuwd_alerts", "Alerts the dispatcher holds that have not resolved, by state: active (notified) or suppressed (silenced or inhibited).", []string{"state"}, nil)
	groupsDesc = prometheus.NewDesc("gpuwd_alert_groups", "Aggregation groups.", nil, nil)
)

func newMetrics(reg prometheus.Registerer, d *Dispatcher) (*metrics, error) {
	m := &metrics{
		requested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpuwd_notifications_requested_total",
			Help: "Notifications the dispatcher enqueued, by receiver.",
		}, []string{"receiver"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpuwd_notifications_requested_failed_total",
			Help: "Group flushes that could not read or enqueue their notification, by receiver; each is tried again at the next group_interval.",
		}, []string{"receiver"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requested, m.failed, collector{d}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// collector reports the alerts and groups at scrape time, from the status
// the last flush or listing computed.
type collector struct{ d *Dispatcher }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- alertsDesc
	ch <- groupsDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	d := c.d
	now := d.now()
	d.mu.Lock()
	var active, suppressed int
	for _, e := range d.alerts {
		switch {
		case e.alert.Resolved(now):
		case len(e.silencedBy) > 0 || len(e.inhibitedBy) > 0:
			suppressed++
		default:
			active++
		}
	}
	groups := len(d.groups)
	d.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(alertsDesc, prometheus.GaugeValue, float64(active), StateActive)
	ch <- prometheus.MustNewConstMetric(alertsDesc, prometheus.GaugeValue, float64(suppressed), StateSuppressed)
	ch <- prometheus.MustNewConstMetric(groupsDesc, prometheus.GaugeValue, float64(groups))
}
