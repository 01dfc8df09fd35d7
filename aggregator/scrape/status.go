package scrape

import (
	"slices"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
)

// Health is a target's state after its last scrape, in the words of
// Prometheus' /api/v1/targets.
type Health string

// The healths of a target.
const (
	HealthUnknown Health = "unknown" // not scraped yet
	HealthUp      Health = "up"
	HealthDown    Health = "down"
)

// Status is one active target, as /api/v1/targets shows it.
type Status struct {
	Job              string
	URL              string            // what is scraped, params included
	Labels           map[string]string // attached to its series: job, instance, the target's own
	DiscoveredLabels map[string]string
	Source           string // where discovery found it
	Health           Health
	LastError        string // empty when up
	LastScrape       time.Time
	LastDuration     time.Duration
	Interval         time.Duration
	Timeout          time.Duration
}

// Targets lists the active targets by job, then URL.
func (m *Manager) Targets() []Status {
	m.mu.Lock()
	loops := make([]*loop, 0, len(m.loops))
	for _, l := range m.loops {
		loops = append(loops, l)
	}
	m.mu.Unlock()

	out := make([]Status, 0, len(loops))
	for _, l := range loops {
		lbls := l.tl.Map()
		l.mu.Lock()
		t := l.tgt
		s := Status{
			Job:          t.Job,
			URL:          l.job.scrapeURL(t),
			Labels:       lbls,
			Source:       t.Source,
			Health:       l.health,
			LastError:    l.lastErr,
			LastScrape:   l.lastScrape,
			LastDuration: l.lastDur,
			Interval:     l.job.interval,
			Timeout:      l.job.timeout,
		}
		l.mu.Unlock()
		s.DiscoveredLabels = t.DiscoveredLabels()
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Status) int {
		if c := strings.Compare(a.Job, b.Job); c != 0 {
			return c
		}
		return strings.Compare(a.URL, b.URL)
	})
	return out
}

// Metadata is what the active targets' expositions say about their metric
// families (# TYPE, # HELP, # UNIT), by family name; a family described
// differently by different targets lists each description once. Like
// Prometheus' /api/v1/metadata, it is read from the scrape caches: a family
// is listed until it has been absent from its targets for 10 scrapes.
func (m *Manager) Metadata() map[string][]store.Metadata {
	m.mu.Lock()
	loops := make([]*loop, 0, len(m.loops))
	for _, l := range m.loops {
		loops = append(loops, l)
	}
	m.mu.Unlock()

	out := map[string][]store.Metadata{}
	for _, l := range loops {
		l.mu.Lock()
		c := l.cache
		l.mu.Unlock()
		if c != nil {
			c.meta.list(out)
		}
	}
	return out
}
