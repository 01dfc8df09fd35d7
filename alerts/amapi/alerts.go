package amapi

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/dispatch"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/matcher"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/silence"
)

// gettableAlert is Alertmanager's GettableAlert.
type gettableAlert struct {
	Annotations  map[string]string `json:"annotations"`
	EndsAt       string            `json:"endsAt"`
	Fingerprint  string            `json:"fingerprint"`
	Receivers    []receiver        `json:"receivers"`
	StartsAt     string            `json:"startsAt"`
	Status       alertStatus       `json:"status"`
	UpdatedAt    string            `json:"updatedAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
	Labels       map[string]string `json:"labels"`
}

type alertStatus struct {
	InhibitedBy []string `json:"inhibitedBy"`
	MutedBy     []string `json:"mutedBy"`
	SilencedBy  []string `json:"silencedBy"`
	State       string   `json:"state"`
}

func toGettable(s dispatch.AlertStatus) gettableAlert {
	g := gettableAlert{
		Annotations:  s.Annotations,
		EndsAt:       silence.FormatTime(s.EndsAt),
		Fingerprint:  s.Fingerprint,
		Receivers:    make([]receiver, 0, len(s.Receivers)),
		StartsAt:     silence.FormatTime(s.StartsAt),
		Status:       alertStatus{InhibitedBy: s.InhibitedBy, MutedBy: []string{}, SilencedBy: s.SilencedBy, State: s.State},
		UpdatedAt:    silence.FormatTime(s.UpdatedAt),
		GeneratorURL: s.GeneratorURL,
		Labels:       s.Labels,
	}
	if g.Annotations == nil {
		g.Annotations = map[string]string{}
	}
	for _, r := range s.Receivers {
		g.Receivers = append(g.Receivers, receiver{r})
	}
	return g
}

// alertQuery is the parameters GET /api/v2/alerts and /alerts/groups
// share.
type alertQuery struct {
	filter                      matcher.Matchers
	receiver                    *regexp.Regexp
	active, silenced, inhibited bool
}

func parseAlertQuery(r *http.Request, extraBools ...string) (alertQuery, error) {
	q := alertQuery{}
	for name, dst := range map[string]*bool{"active": &q.active, "silenced": &q.silenced, "inhibited": &q.inhibited} {
		v, err := boolParam(r, name)
		if err != nil {
			return q, err
		}
		*dst = v
	}
	for _, name := range append([]string{"unprocessed"}, extraBools...) {
		if _, err := boolParam(r, name); err != nil {
			return q, err
		}
	}
	var err error
	if q.filter, err = parseFilter(r); err != nil {
		return q, err
	}
	if rs := r.URL.Query()["receiver"]; len(rs) > 0 {
		if q.receiver, err = regexp.Compile("^(?:" + rs[0] + ")$"); err != nil {
			return q, fmt.Errorf("failed to parse receiver param: %w", err)
		}
	}
	return q, nil
}

// boolParam reads a boolean parameter that defaults to true.
func boolParam(r *http.Request, name string) (bool, error) {
	vs := r.URL.Query()[name]
	if len(vs) == 0 || vs[0] == "" {
		return true, nil
	}
	v, err := strconv.ParseBool(vs[0])
	if err != nil {
		return false, fmt.Errorf("%s in query must be of type boolean: %q", name, vs[0])
	}
	return v, nil
}

// parseFilter reads the filter parameters, one matcher each.
func parseFilter(r *http.Request) (matcher.Matchers, error) {
	var out matcher.Matchers
	for _, f := range r.URL.Query()["filter"] {
		m, err := matcher.ParseOne(f)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// keep applies the state and label filters as Alertmanager does. An empty
// filter value matches a missing label for = and =~, and any present label
// for != and !~.
func (q *alertQuery) keep(s dispatch.AlertStatus) bool {
	switch {
	case !q.active && s.State == dispatch.StateActive,
		!q.silenced && len(s.SilencedBy) > 0,
		!q.inhibited && len(s.InhibitedBy) > 0:
		return false
	}
	for _, m := range q.filter {
		v, present := s.Labels[m.Name]
		if m.Value == "" {
			negative := m.Type == matcher.NotEqual || m.Type == matcher.NotRegexp
			if present == negative {
				continue
			}
		}
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

// alerts is GET /api/v2/alerts: the alerts that have not resolved, with
// their status and receivers, sorted by fingerprint.
func (a *API) alerts(w http.ResponseWriter, r *http.Request) {
	q, err := parseAlertQuery(r)
	if err != nil {
		a.writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := []gettableAlert{}
	for _, s := range a.d.Alerts() {
		if q.receiver != nil && !anyMatch(q.receiver, s.Receivers) {
			continue
		}
		if q.keep(s) {
			out = append(out, toGettable(s))
		}
	}
	a.writeJSON(w, http.StatusOK, out)
}

func anyMatch(re *regexp.Regexp, ss []string) bool {
	for _, s := range ss {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

type alertGroup struct {
	Alerts   []gettableAlert   `json:"alerts"`
	Labels   map[string]string `json:"labels"`
	Receiver receiver          `json:"receiver"`
}

// groups is GET /api/v2/alerts/groups: the aggregation groups with the
// alerts the filters keep; groups left empty are not listed.
func (a *API) groups(w http.ResponseWriter, r *http.Request) {
	q, err := parseAlertQuery(r, "muted")
	if err != nil {
		a.writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := []alertGroup{}
	for _, g := range a.d.Groups() {
		if q.receiver != nil && !q.receiver.MatchString(g.Receiver) {
			continue
		}
		ag := alertGroup{Alerts: []gettableAlert{}, Labels: g.Labels, Receiver: receiver{g.Receiver}}
		for _, s := range g.Alerts {
			if q.keep(s) {
				ag.Alerts = append(ag.Alerts, toGettable(s))
			}
		}
		if len(ag.Alerts) > 0 {
			out = append(out, ag)
		}
	}
	a.writeJSON(w, http.StatusOK, out)
}
