package dispatch

import (
	"slices"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/matcher"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/route"
)

// inhibitor mutes alerts as Alertmanager's inhibition rules do. Each rule
// keeps the alerts that match its source side; the dispatcher's lock
// guards it.
type inhibitor struct {
	rules []*inhibitRule
}

type inhibitRule struct {
	source, target matcher.Matchers
	equal          []string
	sources        map[string]*Alert // by fingerprint
}

func newInhibitor(rules []*route.InhibitRule) *inhibitor {
	ih := &inhibitor{}
	for _, r := range rules {
		ih.rules = append(ih.rules, &inhibitRule{
			source:  r.Sources(),
			target:  r.Targets(),
			equal:   r.Equal,
			sources: map[string]*Alert{},
		})
	}
	return ih
}

// set records the alert's current version.
func (ih *inhibitor) set(fp string, a *Alert) {
	for _, r := range ih.rules {
		if r.source.Matches(a.Labels) {
			r.sources[fp] = a
		}
	}
}

func (ih *inhibitor) remove(fp string) {
	for _, r := range ih.rules {
		delete(r.sources, fp)
	}
}

// mutes returns the fingerprints of the firing alerts that inhibit an alert
// with these labels, sorted: for a rule whose target side the labels match,
// every firing source alert with the same values of the equal labels (a
// missing label equals an empty one). An alert that matches both sides of
// a rule is not inhibited by source alerts that also match both sides, so
// alerts of one kind cannot inhibit one another (nor themselves).
func (ih *inhibitor) mutes(labels map[string]string, now time.Time) []string {
	var out []string
	for _, r := range ih.rules {
		if !r.target.Matches(labels) {
			continue
		}
		twoSided := r.source.Matches(labels)
	sources:
		for fp, s := range r.sources {
			if s.Resolved(now) {
				continue
			}
			for _, l := range r.equal {
				if s.Labels[l] != labels[l] {
					continue sources
				}
			}
			if twoSided && r.target.Matches(s.Labels) {
				continue
			}
			out = append(out, fp)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
