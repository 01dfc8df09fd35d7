package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// RuleLister is what /api/v1/rules and /api/v1/alerts show: the alerting
// and recording rules and their alerts.
type RuleLister interface {
	RuleGroups() []RuleGroup
}

// RuleGroup is a group of rules evaluated together.
type RuleGroup struct {
	Name           string
	File           string
	Rules          []Rule
	Interval       time.Duration
	Limit          int
	EvaluationTime time.Duration // of the last evaluation
	LastEvaluation time.Time
}

// Rule is an alerting or a recording rule.
type Rule struct {
	Alerting       bool // else recording
	Name           string
	Query          string
	Labels         map[string]string
	Health         string // "ok", "err" or "unknown"
	LastError      string
	EvaluationTime time.Duration
	LastEvaluation time.Time

	// Alerting rules only.
	State         string // "inactive", "pending" or "firing"
	For           time.Duration
	KeepFiringFor time.Duration
	Annotations   map[string]string
	Alerts        []Alert // the pending and firing ones
}

// Alert is one pending or firing alert.
type Alert struct {
	Labels          map[string]string
	Annotations     map[string]string
	State           string // "pending" or "firing"
	ActiveAt        time.Time
	KeepFiringSince time.Time // zero unless kept firing after the condition ended
	Value           float64
}

// The JSON shapes of Prometheus' v1.RuleDiscovery, RuleGroup, AlertingRule,
// RecordingRule and Alert.
type (
	ruleDiscovery struct {
		Groups         []ruleGroupJSON `json:"groups"`
		GroupNextToken string          `json:"groupNextToken,omitempty"`
	}
	ruleGroupJSON struct {
		Name           string    `json:"name"`
		File           string    `json:"file"`
		Rules          []any     `json:"rules"`
		Interval       float64   `json:"interval"`
		Limit          int       `json:"limit"`
		EvaluationTime float64   `json:"evaluationTime"`
		LastEvaluation time.Time `json:"lastEvaluation"`
	}
	alertingRuleJSON struct {
		State          string            `json:"state"`
		Name           string            `json:"name"`
		Query          string            `json:"query"`
		Duration       float64           `json:"duration"`
		KeepFiringFor  float64           `json:"keepFiringFor"`
		Labels         map[string]string `json:"labels"`
		Annotations    map[string]string `json:"annotations"`
		Alerts         []alertJSON       `json:"alerts"`
		Health         string            `json:"health"`
		LastError      string            `json:"lastError,omitempty"`
		EvaluationTime float64           `json:"evaluationTime"`
		LastEvaluation time.Time         `json:"lastEvaluation"`
		Type           string            `json:"type"`
	}
	recordingRuleJSON struct {
		Name           string            `json:"name"`
		Query          string            `json:"query"`
		Labels         map[string]string `json:"labels"`
		Health         string            `json:"health"`
		LastError      string            `json:"lastError,omitempty"`
		EvaluationTime float64           `json:"evaluationTime"`
		LastEvaluation time.Time         `json:"lastEvaluation"`
		Type           string            `json:"type"`
	}
	alertJSON struct {
		Labels          map[string]string `json:"labels"`
		Annotations     map[string]string `json:"annotations"`
		State           string            `json:"state"`
		ActiveAt        *time.Time        `json:"activeAt,omitempty"`
		KeepFiringSince *time.Time        `json:"keepFiringSince,omitempty"`
		Value           string            `json:"value"`
	}
)

// listRules is /api/v1/rules with Prometheus' filters: type=alert|record,
// rule_name[], rule_group[], file[], match[] (on rule labels),
// exclude_alerts, and paging with group_limit and group_next_token.
func (a *API) listRules(r *http.Request) result {
	names, groups, files := toSet(r.Form["rule_name[]"]), toSet(r.Form["rule_group[]"]), toSet(r.Form["file[]"])
	sets, err := a.parseMatchers(r.Form["match[]"])
	if err != nil {
		return result{err: badData(err)}
	}
	query := r.URL.Query()
	typ := strings.ToLower(query.Get("type"))
	if typ != "" && typ != "alert" && typ != "record" {
		return invalidParam(fmt.Errorf("not supported value %q", typ), "type")
	}
	excludeAlerts := false
	if s := strings.ToLower(query.Get("exclude_alerts")); s != "" {
		if excludeAlerts, err = strconv.ParseBool(s); err != nil {
			return invalidParam(fmt.Errorf("error converting exclude_alerts: %w", err), "exclude_alerts")
		}
	}
	maxGroups, next, bad := groupPaging(query.Get("group_limit"), query.Get("group_next_token"))
	if bad != nil {
		return *bad
	}

	res := &ruleDiscovery{Groups: []ruleGroupJSON{}}
	foundToken := false
	for _, g := range a.ruleGroups() {
		if maxGroups > 0 && next != "" && !foundToken {
			if next != groupToken(g) {
				continue
			}
			foundToken = true
		}
		if !inSet(groups, g.Name) || !inSet(files, g.File) {
			continue
		}
		out := ruleGroupJSON{
			Name:           g.Name,
			File:           g.File,
			Rules:          []any{},
			Interval:       g.Interval.Seconds(),
			Limit:          g.Limit,
			EvaluationTime: g.EvaluationTime.Seconds(),
			LastEvaluation: g.LastEvaluation,
		}
		for _, rule := range g.Rules {
			if !inSet(names, rule.Name) || !matchesAny(sets, rule.Labels) {
				continue
			}
			switch {
			case rule.Alerting && (typ == "" || typ == "alert"):
				out.Rules = append(out.Rules, alertingRuleToJSON(rule, excludeAlerts))
			case !rule.Alerting && (typ == "" || typ == "record"):
				out.Rules = append(out.Rules, recordingRuleToJSON(rule))
			}
		}
		if len(out.Rules) == 0 {
			continue
		}
		if maxGroups > 0 && len(res.Groups) == maxGroups {
			res.GroupNextToken = groupToken(g)
			break
		}
		res.Groups = append(res.Groups, out)
	}
	if maxGroups > 0 && next != "" && !foundToken {
		return invalidParam(fmt.Errorf("invalid group_next_token '%v'. were rule groups changed?", next), "group_next_token")
	}
	return result{data: res}
}

// listAlerts is /api/v1/alerts: the alerts of every alerting rule.
func (a *API) listAlerts(*http.Request) result {
	alerts := []alertJSON{}
	for _, g := range a.ruleGroups() {
		for _, rule := range g.Rules {
			if rule.Alerting {
				alerts = append(alerts, alertsToJSON(rule.Alerts)...)
			}
		}
	}
	return result{data: map[string][]alertJSON{"alerts": alerts}}
}

func (a *API) ruleGroups() []RuleGroup {
	if a.rules == nil {
		return nil
	}
	return a.rules.RuleGroups()
}

func alertingRuleToJSON(r Rule, excludeAlerts bool) alertingRuleJSON {
	out := alertingRuleJSON{
		State:          r.State,
		Name:           r.Name,
		Query:          r.Query,
		Duration:       r.For.Seconds(),
		KeepFiringFor:  r.KeepFiringFor.Seconds(),
		Labels:         orEmpty(r.Labels),
		Annotations:    orEmpty(r.Annotations),
		Health:         health(r.Health),
		LastError:      r.LastError,
		EvaluationTime: r.EvaluationTime.Seconds(),
		LastEvaluation: r.LastEvaluation,
		Type:           "alerting",
	}
	if !excludeAlerts { // excluded, Prometheus shows "alerts": null
		out.Alerts = alertsToJSON(r.Alerts)
	}
	return out
}

func recordingRuleToJSON(r Rule) recordingRuleJSON {
	return recordingRuleJSON{
		Name:           r.Name,
		Query:          r.Query,
		Labels:         orEmpty(r.Labels),
		Health:         health(r.Health),
		LastError:      r.LastError,
		EvaluationTime: r.EvaluationTime.Seconds(),
		LastEvaluation: r.LastEvaluation,
		Type:           "recording",
	}
}

func alertsToJSON(alerts []Alert) []alertJSON {
	out := make([]alertJSON, len(alerts))
	for i, al := range alerts {
		out[i] = alertJSON{
			Labels:      orEmpty(al.Labels),
			Annotations: orEmpty(al.Annotations),
			State:       al.State,
			ActiveAt:    &al.ActiveAt,
			Value:       strconv.FormatFloat(al.Value, 'e', -1, 64),
		}
		if !al.KeepFiringSince.IsZero() {
			out[i].KeepFiringSince = &al.KeepFiringSince
		}
	}
	return out
}

func health(h string) string {
	if h == "" {
		return "unknown"
	}
	return h
}

// groupPaging reads group_limit and group_next_token.
func groupPaging(limit, token string) (int, string, *result) {
	if token != "" && limit == "" {
		res := invalidParam(errors.New("group_limit needs to be present in order to paginate over the groups"), "group_next_token")
		return 0, "", &res
	}
	if limit == "" {
		return 0, "", nil
	}
	n, err := strconv.ParseInt(limit, 10, 32)
	if err != nil {
		res := invalidParam(fmt.Errorf("group_limit needs to be a valid number: %w", err), "group_limit")
		return 0, "", &res
	}
	if n <= 0 {
		res := invalidParam(errors.New("group_limit needs to be greater than 0"), "group_limit")
		return 0, "", &res
	}
	return int(n), token, nil
}

// groupToken names a group for paging, as Prometheus does.
func groupToken(g RuleGroup) string {
	sum := sha256.Sum256([]byte(g.File + ";" + g.Name))
	return hex.EncodeToString(sum[:])
}

func toSet(vs []string) map[string]bool {
	set := make(map[string]bool, len(vs))
	for _, v := range vs {
		set[v] = true
	}
	return set
}

// inSet is true for an empty set (no filter) or a member.
func inSet(set map[string]bool, v string) bool { return len(set) == 0 || set[v] }

// matchesAny reports whether a label set matches every matcher of one of
// the sets, or there are no sets.
func matchesAny(sets [][]*labels.Matcher, ls map[string]string) bool {
	if len(sets) == 0 {
		return true
	}
	for _, set := range sets {
		ok := true
		for _, m := range set {
			if !m.Matches(ls[m.Name]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
