package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of deliveries (the result label).
const (
	resultDelivered = StatusDelivered
	resultFailed    = StatusFailed
	resultRetried   = "retried" // a failed attempt that will be tried again (also the one that disables)
	resultDropped   = StatusDropped
)

type metrics struct {
	enqueued   *prometheus.CounterVec
	unrecorded *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	saveErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, o *Outbox) (*metrics, error) {
	m := &metrics{
		enqueued: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpuwd_notifications_enqueued_total",
			Help: "Notifications written to the outbox, by receiver."}, []string{"receiver"}),
		unrecorded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpuwd_notifications_unrecorded_total",
			Help: "Notifications sent from memory because alerts.db's disk was full, by receiver."}, []string{"receiver"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpuwd_notification_deliveries_total",
			Help: "Delivery outcomes: delivered; failed (rejected for good); retried (a failed attempt to be tried again, " +
				"including the one that disabled the integration); expired (older than the maximum age); " +
				"skipped (only resolved alerts, send_resolved off); dropped (integration removed)."},
			[]string{"receiver", "integration", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gpuwd_notification_delivery_duration_seconds",
			Help:    "Duration of one delivery attempt, failed ones included.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"receiver", "integration"}),
		saveErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "gpuwd_notification_state_save_errors_total",
			Help: "Failed writes of delivery state to alerts.db (e.g. disk full); the write is retried and the queue waits."}),
	}
	if reg == nil {
		return m, nil
	}
	var done []prometheus.Collector
	for _, c := range []prometheus.Collector{m.enqueued, m.unrecorded, m.deliveries, m.duration, m.saveErrors, queueCollector{o}} {
		if err := reg.Register(c); err != nil {
			for _, d := range done {
				reg.Unregister(d)
			}
			if errors.As(err, &prometheus.AlreadyRegisteredError{}) {
				return nil, errors.New("outbox: metrics: another outbox is registered")
			}
			return nil, fmt.Errorf("outbox: metrics: %w", err)
		}
		done = append(done, c)
	}
	return m, nil
}

func (m *metrics) delivery(k key, result string, n int) {
	m.deliveries.WithLabelValues(k.receiver, k.integration, result).Add(float64(n))
}

var (
	queueLengthDesc = prometheus.NewDesc("gpuwd_notification_queue_length",
		"Deliveries waiting to be sent, held ones included.", []string{"receiver", "integration"}, nil)
	oldestPendingDesc = prometheus.NewDesc("gpuwd_notification_oldest_pending_age_seconds",
		"Age of the oldest delivery waiting to be sent (0 when none).", []string{"receiver", "integration"}, nil)
	disabledDesc = prometheus.NewDesc("gpuwd_notification_integration_disabled",
		"1 while the service has disabled the integration (e.g. Discord 404) and its deliveries are held.", []string{"receiver", "integration"}, nil)
)

// queueCollector reads the queue gauges from alerts.db at scrape time.
type queueCollector struct{ o *Outbox }

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueLengthDesc
	ch <- oldestPendingDesc
	ch <- disabledDesc
}

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hs, err := c.o.Integrations(ctx)
	if err != nil {
		c.o.log.Error("outbox: reading queue metrics failed", "err", err)
		ch <- prometheus.NewInvalidMetric(queueLengthDesc, err)
		return
	}
	now := c.o.opts.Now()
	for _, h := range hs {
		age := 0.0
		if !h.OldestPending.IsZero() {
			age = max(0, now.Sub(h.OldestPending).Seconds())
		}
		disabled := 0.0
		if h.Disabled {
			disabled = 1
		}
		ch <- prometheus.MustNewConstMetric(queueLengthDesc, prometheus.GaugeValue, float64(h.Pending), h.Receiver, h.Name)
		ch <- prometheus.MustNewConstMetric(oldestPendingDesc, prometheus.GaugeValue, age, h.Receiver, h.Name)
		ch <- prometheus.MustNewConstMetric(disabledDesc, prometheus.GaugeValue, disabled, h.Receiver, h.Name)
	}
}
