package scrape

import (
	"context"
	"time"

	"github.com/prometheus/prometheus/model/timestamp"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
)

// The report series written with every scrape, as Prometheus names them.
var reportSeries = [...]struct {
	name string
	md   store.Metadata
}{
	{"up", store.Metadata{Type: "gauge", Help: "Health of the scrape target. 1 means the target is healthy, 0 otherwise."}},
	{"scrape_duration_seconds", store.Metadata{Type: "gauge", Help: "Duration of the scrape.", Unit: "seconds"}},
	{"scrape_samples_scraped", store.Metadata{Type: "gauge", Help: "The number of samples the target exposed."}},
	{"scrape_samples_post_metric_relabeling", store.Metadata{Type: "gauge", Help: "The number of samples remaining after metric relabeling was applied."}},
	{"scrape_series_added", store.Metadata{Type: "gauge", Help: "The approximate number of new series in this scrape."}},
}

// resolveReport gives the report series their references, once per loop.
func (l *loop) resolveReport() error {
	c := l.cache
	if c.report != nil {
		return nil
	}
	rs := make([]*series, len(reportSeries))
	for i, r := range reportSeries {
		lset := reportLabels(r.name, l.tl)
		ref, err := l.m.st.Ref(lset)
		if err != nil {
			return err
		}
		rs[i] = &series{ref: ref, lset: lset, hash: lset.Hash()}
		l.m.meta.set(l.m.st, r.name, r.md)
	}
	c.report = rs
	return nil
}

// appendReport adds the report series' samples to the scrape's.
func (l *loop) appendReport(t int64, up bool, dur time.Duration, n counts) error {
	if err := l.resolveReport(); err != nil {
		return err
	}
	health := 0.0
	if up {
		health = 1
	}
	values := [len(reportSeries)]float64{health, dur.Seconds(), float64(n.scraped), float64(n.kept), float64(n.added)}
	c := l.cache
	for i, s := range c.report {
		c.samples = append(c.samples, store.Sample{Ref: s.ref, T: t, V: values[i]})
	}
	return nil
}

// finish marks everything the target exposed stale, report series
// included, when the loop ends for good (target removed, Manager stopped).
func (l *loop) finish() {
	if l.handover.Load() {
		return
	}
	c := l.cache
	t := max(timestamp.FromTime(l.now()), c.lastT+1)
	c.samples = c.samples[:0]
	c.appendStale(t, true)
	for _, s := range c.report {
		c.samples = append(c.samples, store.Sample{Ref: s.ref, T: t, V: staleNaN})
	}
	if len(c.samples) == 0 {
		return // never scraped
	}
	// The loop's context is done: give the write the job's timeout.
	ctx, cancel := context.WithTimeout(context.Background(), l.job.timeout)
	defer cancel()
	if err := l.m.st.Append(ctx, c.samples); err != nil {
		l.log.Warn("Writing stale markers for a removed target failed", "err", err)
		return
	}
	l.jm.samples.Add(float64(len(c.samples)))
	c.prev = c.prev[:0]
	c.lastT = t
}
