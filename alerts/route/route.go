package route

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/matcher"
	"github.com/prometheus/common/model"
)

// Route is a node of the routing tree with its options resolved: what it
// does not set, it has from its parent, and the root from Alertmanager's
// defaults.
type Route struct {
	parent *Route
	index  int // position among the parent's routes

	Receiver string
	// GroupBy are the labels that form a group's labels, sorted;
	// GroupByAll ('...') takes all of them.
	GroupBy        []string
	GroupByAll     bool
	GroupWait      time.Duration
	GroupInterval  time.Duration
	RepeatInterval time.Duration
	// Matchers are all the route's matchers (match and match_re included),
	// sorted as Alertmanager sorts them.
	Matchers matcher.Matchers
	Continue bool
	Routes   []*Route

	key, id string
}

func newRoute(cr *RouteConfig, parent *Route, index int) *Route {
	r := &Route{
		parent:         parent,
		index:          index,
		GroupWait:      DefaultGroupWait,
		GroupInterval:  DefaultGroupInterval,
		RepeatInterval: DefaultRepeatInterval,
		GroupBy:        []string{},
	}
	if parent != nil {
		r.Receiver = parent.Receiver
		r.GroupBy, r.GroupByAll = parent.GroupBy, parent.GroupByAll
		r.GroupWait, r.GroupInterval, r.RepeatInterval = parent.GroupWait, parent.GroupInterval, parent.RepeatInterval
	}
	if cr.Receiver != "" {
		r.Receiver = cr.Receiver
	}
	if cr.GroupBy != nil {
		r.GroupBy, r.GroupByAll = []string{}, false
		for _, l := range cr.GroupBy {
			if l == "..." {
				r.GroupByAll = true
			} else {
				r.GroupBy = append(r.GroupBy, l)
			}
		}
		r.GroupBy = sortedUnique(r.GroupBy)
	}
	if cr.GroupWait != nil {
		r.GroupWait = time.Duration(*cr.GroupWait)
	}
	if cr.GroupInterval != nil {
		r.GroupInterval = time.Duration(*cr.GroupInterval)
	}
	if cr.RepeatInterval != nil {
		r.RepeatInterval = time.Duration(*cr.RepeatInterval)
	}
	r.Matchers = combine(cr.Match, cr.MatchRE, cr.Matchers)
	r.Continue = cr.Continue

	var b strings.Builder
	if parent != nil {
		b.WriteString(parent.key)
		b.WriteByte('/')
	}
	b.WriteString(r.Matchers.String())
	r.key = b.String()
	r.id = r.key
	if parent != nil {
		r.id += "/" + strconv.Itoa(index)
	}

	r.Routes = make([]*Route, 0, len(cr.Routes))
	for i, child := range cr.Routes {
		r.Routes = append(r.Routes, newRoute(child, r, i))
	}
	return r
}

func sortedUnique(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// Match returns the routes an alert with these labels goes to: depth first,
// left to right; the first matching child wins unless it has continue; a
// node none of whose children match is itself the match.
func (r *Route) Match(labels map[string]string) []*Route {
	if !r.Matchers.Matches(labels) {
		return nil
	}
	var all []*Route
	for _, c := range r.Routes {
		m := c.Match(labels)
		all = append(all, m...)
		if m != nil && !c.Continue {
			break
		}
	}
	if len(all) == 0 {
		all = append(all, r)
	}
	return all
}

// Key is Alertmanager's route key: the matchers of the route and its
// ancestors, {}/{severity="critical"}. Siblings with the same matchers have
// the same key; group keys are built from it.
func (r *Route) Key() string { return r.key }

// ID is Key plus the route's position among its siblings
// ({}/{severity="critical"}/0): unique in the tree.
func (r *Route) ID() string { return r.id }

// Parent is the route's parent; nil for the root.
func (r *Route) Parent() *Route { return r.parent }

// Walk visits the route and its descendants, depth first.
func (r *Route) Walk(visit func(*Route)) {
	visit(r)
	for _, c := range r.Routes {
		c.Walk(visit)
	}
}

// GroupLabels are the labels of an alert that name its group on this
// route: those of GroupBy (all with GroupByAll) the alert has.
func (r *Route) GroupLabels(labels map[string]string) map[string]string {
	out := map[string]string{}
	if r.GroupByAll {
		for k, v := range labels {
			out[k] = v
		}
		return out
	}
	for _, l := range r.GroupBy {
		if v, ok := labels[l]; ok {
			out[l] = v
		}
	}
	return out
}

// GroupKey is Alertmanager's group key for the group with these labels on
// this route: {}/{severity="critical"}:{alertname="GPUDown"}. Notifications
// are deduplicated per receiver and group key.
func (r *Route) GroupKey(groupLabels map[string]string) string {
	return r.key + ":" + labelSet(groupLabels).String()
}

func labelSet(m map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(m))
	for k, v := range m {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}
