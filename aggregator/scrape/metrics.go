package scrape

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Results of a scrape, the result label of gpuwd_scrapes_total.
const (
	resultSuccess     = "success"
	resultTimeout     = "timeout"
	resultHTTP        = "http_error" // connection failed or status != 200
	resultBodySize    = "body_size_limit"
	resultParse       = "parse_error"
	resultSampleLimit = "sample_limit"
	resultStore       = "store_error"
)

// metrics are the scraper's own metrics, all by job.
type metrics struct {
	scrapes    *prometheus.CounterVec   // by job, result
	duration   *prometheus.HistogramVec // fetch to append
	samples    *prometheus.CounterVec   // appended, stale markers and report series included
	limitHits  *prometheus.CounterVec
	missed     *prometheus.CounterVec
	delay      *prometheus.HistogramVec // actual start minus scheduled start
	duplicates *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		scrapes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpuwd_scrapes_total",
			Help: "Scrapes done, by job and result (success, timeout, http_error, body_size_limit, parse_error, sample_limit, store_error).",
		}, []string{"job", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gpuwd_scrape_duration_seconds",
			Help:    "Time a scrape took, from sending the request to the samples being stored.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"job"}),
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpuwd_scrape_samples_appended_total",
			Help: "Samples handed to storage and acknowledged, including stale markers and report series.",
		}, []string{"job"}),
		limitHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpuwd_scrape_sample_limit_exceeded_total",
			Help: "Scrapes rejected because they exposed more samples than the job's sample_limit.",
		}, []string{"job"}),
		missed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpuwd_scrape_missed_total",
			Help: "Scheduled scrapes skipped because the previous scrape of the target overran them.",
		}, []string{"job"}),
		delay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gpuwd_scrape_delay_seconds",
			Help:    "How late a scrape started after its scheduled time.",
			Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .5, 1, 5},
		}, []string{"job"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpuwd_scrape_duplicate_samples_total",
			Help: "Samples dropped because their series appeared more than once in one scrape.",
		}, []string{"job"}),
	}
	if reg != nil {
		reg.MustRegister(m.scrapes, m.duration, m.samples, m.limitHits, m.missed, m.delay, m.duplicates)
	}
	return m
}

// jobMetrics are the metrics of one job, looked up once per loop.
type jobMetrics struct {
	all        *metrics
	job        string
	duration   prometheus.Observer
	samples    prometheus.Counter
	limitHits  prometheus.Counter
	missed     prometheus.Counter
	delay      prometheus.Observer
	duplicates prometheus.Counter
}

func (m *metrics) forJob(job string) *jobMetrics {
	return &jobMetrics{
		all:        m,
		job:        job,
		duration:   m.duration.WithLabelValues(job),
		samples:    m.samples.WithLabelValues(job),
		limitHits:  m.limitHits.WithLabelValues(job),
		missed:     m.missed.WithLabelValues(job),
		delay:      m.delay.WithLabelValues(job),
		duplicates: m.duplicates.WithLabelValues(job),
	}
}

func (jm *jobMetrics) scraped(result string) {
	jm.all.scrapes.WithLabelValues(jm.job, result).Inc()
}
