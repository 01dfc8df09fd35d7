package aggregator

import (
	"cmp"
	"slices"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/scrape"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
	"github.com/gpu-watchdog/gpu-watchdog/web"
	"github.com/gpu-watchdog/gpu-watchdog/web/pages/overview"
	"github.com/gpu-watchdog/gpu-watchdog/web/pages/targets"
)

// registerDashboard mounts the dashboard's pages on mux.
func (s *Server) registerDashboard(mux *routeMux) {
	s.dash = web.New(web.Options{
		Query:         s.dashQuery(),
		Alerts:        dashAlerts{s.alerts.rules},
		Alerting:      dashAlerting{s.alerts},
		AlertActions:  dashActions{s},
		Rules:         dashRules{s.alerts},
		Targets:       dashTargets{s.scrape},
		Provisioner:   s.prov.provisioner(),
		PodNodes:      s.podNodes,
		IdlePolicies:  s.prov.idlePolicies(),
		Auth:          s.auth,
		Audit:         s.audit,
		SecureCookies: s.secureCookies(),
		Version:       s.opts.Version,
		Refresh:       s.opts.DashboardRefresh,
		Logger:        s.log.With("component", "web"),
	})
	for _, route := range web.Routes {
		mux.mount(route, s.dash)
	}
}

// dashQuery answers the dashboard's PromQL with the API's engine.
func (s *Server) dashQuery() engineQuery {
	return engineQuery{engine: s.engine, store: s.store, timeout: s.opts.QueryTimeout}
}

// dashAlerts lists the firing alerts for the overview, most severe and
// oldest first.
type dashAlerts struct{ m *rules.Manager }

func (d dashAlerts) Firing() []overview.Alert {
	var out []overview.Alert
	for _, g := range d.m.Groups() {
		for _, r := range g.Rules() {
			ar, ok := r.(*rules.AlertingRule)
			if !ok {
				continue
			}
			for _, a := range ar.ActiveAlerts() {
				if a.State == rules.StateFiring {
					out = append(out, overview.Alert{Name: ar.Name(), Severity: a.Labels.Get("severity"),
						Summary: a.Annotations.Get("summary"), Since: a.FiredAt})
				}
			}
		}
	}
	rank := map[string]int{"critical": 0, "warning": 1, "info": 2}
	slices.SortStableFunc(out, func(a, b overview.Alert) int {
		ra, oka := rank[a.Severity]
		rb, okb := rank[b.Severity]
		if !oka {
			ra = 3
		}
		if !okb {
			rb = 3
		}
		return cmp.Or(cmp.Compare(ra, rb), a.Since.Compare(b.Since), cmp.Compare(a.Name, b.Name))
	})
	return out
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
