package collector

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// descs lists what a collector can emit, for Describe.
type descs []*prometheus.Desc

// gauge adds a gauge's description.
func (d *descs) gauge(name, help string, labels ...string) *prometheus.Desc {
	desc := prometheus.NewDesc(name, help, labels, nil)
	*d = append(*d, desc)
	return desc
}

func (d descs) describe(ch chan<- *prometheus.Desc) {
	for _, desc := range d {
		ch <- desc
	}
}

// batch is one cycle's metrics.
type batch []prometheus.Metric

// add adds a gauge. Label values come from Slurm's output, which is not
// always UTF-8; a bad byte becomes U+FFFD rather than a panic.
func (b *batch) add(d *prometheus.Desc, v float64, labels ...string) {
	for i, l := range labels {
		if !utf8.ValidString(l) {
			labels[i] = strings.ToValidUTF8(l, "\uFFFD")
		}
	}
	*b = append(*b, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
}

// snapshot holds the metrics of the last successful cycle.
type snapshot struct {
	mu      sync.Mutex
	metrics []prometheus.Metric // nil after a failed cycle
}

func (s *snapshot) set(m []prometheus.Metric) {
	s.mu.Lock()
	s.metrics = m
	s.mu.Unlock()
}

func (s *snapshot) collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	m := s.metrics // never modified once set
	s.mu.Unlock()
	for _, x := range m {
		ch <- x
	}
}
