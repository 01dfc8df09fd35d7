package silence

import "github.com/prometheus/client_golang/prometheus"

var silencesDesc = prometheus.NewDesc("gpuwd_silences", "Silences by state.", []string{"state"}, nil)

// Register exports gpuwd_silences{state="active|pending|expired"} on reg.
func (s *Store) Register(reg prometheus.Registerer) error { return reg.Register(collector{s}) }

type collector struct{ s *Store }

func (c collector) Describe(ch chan<- *prometheus.Desc) { ch <- silencesDesc }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for state, n := range c.s.Counts() {
		ch <- prometheus.MustNewConstMetric(silencesDesc, prometheus.GaugeValue, float64(n), string(state))
	}
}
