package aggregator

import (
	"net/http"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/scrape"
	"github.com/gpu-watchdog/gpu-watchdog/web"
	"github.com/gpu-watchdog/gpu-watchdog/web/pages/targets"
)

// registerDashboard mounts the dashboard's pages on mux.
func (s *Server) registerDashboard(mux *http.ServeMux) {
	dash := web.New(web.Options{
		Targets: dashTargets{s.scrape},
		Version: s.opts.Version,
		Logger:  s.log.With("component", "web"),
	})
	for _, route := range web.Routes {
		mux.Handle(route, dash)
	}
}

// dashTargets shows the scraper's targets to the dashboard.
type dashTargets struct{ m *scrape.Manager }

func (d dashTargets) Targets() []targets.Target {
	var out []targets.Target
	for _, st := range d.m.Targets() {
		out = append(out, targets.Target{
			Job:          st.Job,
			Instance:     st.Labels["instance"],
			URL:          config.RedactURL(st.URL),
			Health:       string(st.Health),
			LastError:    st.LastError,
			LastScrape:   st.LastScrape,
			LastDuration: st.LastDuration,
			Interval:     st.Interval,
		})
	}
	return out
}
