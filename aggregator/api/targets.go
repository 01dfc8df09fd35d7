package api

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"
)

// TargetLister is what /api/v1/targets shows: the scraper's targets.
type TargetLister interface {
	// ActiveTargets are the targets being scraped.
	ActiveTargets() []Target
	// DroppedTargets are targets discovery found but relabelling dropped.
	DroppedTargets() []DroppedTarget
}

// Target is one scraped target as the API shows it, with Prometheus' JSON
// names.
type Target struct {
	// DiscoveredLabels are the labels before relabelling (__address__,
	// __scheme__, __metrics_path__, __meta_*, job).
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
	// Labels are attached to every series scraped from the target.
	Labels     map[string]string `json:"labels"`
	ScrapePool string            `json:"scrapePool"` // the job
	ScrapeURL  string            `json:"scrapeUrl"`
	// GlobalURL is ScrapeURL as reachable from elsewhere; ScrapeURL if empty.
	GlobalURL          string    `json:"globalUrl"`
	LastError          string    `json:"lastError"`
	LastScrape         time.Time `json:"lastScrape"`
	LastScrapeDuration float64   `json:"lastScrapeDuration"` // seconds
	Health             string    `json:"health"`             // "up", "down" or "unknown"
	ScrapeInterval     string    `json:"scrapeInterval"`     // a Prometheus duration, "15s"
	ScrapeTimeout      string    `json:"scrapeTimeout"`
}

// DroppedTarget is a target that relabelling dropped.
type DroppedTarget struct {
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
	ScrapePool       string            `json:"scrapePool"`
}

// The JSON of /api/v1/targets.
type targetDiscovery struct {
	ActiveTargets       []Target        `json:"activeTargets"`
	DroppedTargets      []DroppedTarget `json:"droppedTargets"`
	DroppedTargetCounts map[string]int  `json:"droppedTargetCounts"`
}

// listTargets is /api/v1/targets: state=active|dropped|any (default any)
// and scrapePool filter the lists, which are ordered by pool.
// droppedTargetCounts counts every pool's dropped targets whatever the
// filter, and is null when dropped targets are not asked for.
func (a *API) listTargets(r *http.Request) result {
	query := r.URL.Query()
	pool := query.Get("scrapePool")
	state := strings.ToLower(query.Get("state"))
	showActive := state == "" || state == "any" || state == "active"
	showDropped := state == "" || state == "any" || state == "dropped"

	res := &targetDiscovery{ActiveTargets: []Target{}, DroppedTargets: []DroppedTarget{}}
	if a.targets == nil {
		if showDropped {
			res.DroppedTargetCounts = map[string]int{}
		}
		return result{data: res}
	}
	if showActive {
		for _, t := range a.targets.ActiveTargets() {
			if pool != "" && t.ScrapePool != pool {
				continue
			}
			t.DiscoveredLabels = orEmpty(t.DiscoveredLabels)
			t.Labels = orEmpty(t.Labels)
			if t.GlobalURL == "" {
				t.GlobalURL = t.ScrapeURL
			}
			if t.Health == "" {
				t.Health = "unknown"
			}
			res.ActiveTargets = append(res.ActiveTargets, t)
		}
		slices.SortStableFunc(res.ActiveTargets, func(a, b Target) int { return cmp.Compare(a.ScrapePool, b.ScrapePool) })
	}
	if showDropped {
		res.DroppedTargetCounts = map[string]int{}
		for _, t := range a.targets.DroppedTargets() {
			res.DroppedTargetCounts[t.ScrapePool]++
			if pool != "" && t.ScrapePool != pool {
				continue
			}
			t.DiscoveredLabels = orEmpty(t.DiscoveredLabels)
			res.DroppedTargets = append(res.DroppedTargets, t)
		}
		slices.SortStableFunc(res.DroppedTargets, func(a, b DroppedTarget) int { return cmp.Compare(a.ScrapePool, b.ScrapePool) })
	}
	return result{data: res}
}

// orEmpty makes a nil label map {} rather than null, as Prometheus shows an
// empty label set.
func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
