package aggregator

import (
	"context"

	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/api"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/scrape"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
)

// targetLister shows the scraper's targets to the API.
type targetLister struct{ m *scrape.Manager }

func (l targetLister) ActiveTargets() []api.Target {
	var out []api.Target
	for _, st := range l.m.Targets() {
		t := api.Target{
			DiscoveredLabels:   st.DiscoveredLabels,
			Labels:             st.Labels,
			ScrapePool:         st.Job,
			ScrapeURL:          st.URL,
			LastError:          st.LastError,
			LastScrape:         st.LastScrape,
			LastScrapeDuration: st.LastDuration.Seconds(),
			Health:             string(st.Health),
			ScrapeInterval:     model.Duration(st.Interval).String(),
			ScrapeTimeout:      model.Duration(st.Timeout).String(),
		}
		out = append(out, t)
	}
	return out
}

func (l targetLister) DroppedTargets() []api.DroppedTarget {
	var out []api.DroppedTarget
	for _, t := range l.m.Dropped() {
		out = append(out, api.DroppedTarget{DiscoveredLabels: t.DiscoveredLabels(), ScrapePool: t.Job})
	}
	return out
}

// metadataLister answers from what targets say now, and from the store for
// metrics no target exposes any more.
type metadataLister struct {
	live   *scrape.Manager
	stored *store.Store
}

func (l metadataLister) Metadata(_ context.Context, metric string) (map[string][]api.Metadata, error) {
	out := map[string][]api.Metadata{}
	for name, list := range l.live.Metadata() {
		if metric != "" && name != metric {
			continue
		}
		for _, m := range list {
			out[name] = append(out[name], api.Metadata{Type: m.Type, Help: m.Help, Unit: m.Unit})
		}
	}
	for name, m := range l.stored.Metadata() {
		if _, ok := out[name]; ok || (metric != "" && name != metric) {
			continue
		}
		out[name] = []api.Metadata{{Type: m.Type, Help: m.Help, Unit: m.Unit}}
	}
	return out, nil
}
