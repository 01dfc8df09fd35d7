package discovery

import (
	"net/http"

	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// sdGroup is one target group of Prometheus' HTTP SD format.
type sdGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// serveSD lists the targets in Prometheus' HTTP SD format, one group per
// target, optionally only those of ?job=. The labels carry the job, scheme,
// metrics path, the target's labels and its discovery facts as __meta_*, so
// a Prometheus with
//
//	http_sd_configs: [{url: http://aggregator:9090/api/v1/sd}]
//
// scrapes the same targets, with the same labels, as the aggregator.
func (m *Manager) serveSD(w http.ResponseWriter, r *http.Request) {
	job := r.URL.Query().Get("job")
	groups := []sdGroup{}
	for _, t := range m.Targets() {
		if job != "" && t.Job != job {
			continue
		}
		groups = append(groups, sdGroupOf(t))
	}
	writeJSON(w, http.StatusOK, groups)
}

func sdGroupOf(t target.Target) sdGroup {
	ls := t.DiscoveredLabels()
	delete(ls, model.AddressLabel)
	return sdGroup{Targets: []string{t.Address}, Labels: ls}
}
