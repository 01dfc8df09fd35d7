package aggregator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/idle"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
)

// idleRulesFile is where the idle policies' rules are written, in the data
// directory, for the rule manager to load with the configured files.
const idleRulesFile = "idle-policies.rules.yml"

// writeIdleRules writes the idle policies' rule file (removing it when
// there are none) and returns its path, "" when none.
func writeIdleRules(dir string, cfg *config.Config) (string, error) {
	path := filepath.Join(dir, idleRulesFile)
	b, err := idle.RuleFile(cfg.Provision.Policies())
	if err != nil {
		return "", fmt.Errorf("provision.idle_policies: %w", err)
	}
	if b == nil {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return "", nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return "", fmt.Errorf("provision.idle_policies: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("provision.idle_policies: %w", err)
	}
	return path, nil
}

// ruleFiles are the configured rule files and the idle policies' file.
func (s *Server) ruleFiles(cfg *config.Config) []string {
	if s.idleRules == "" {
		return cfg.RuleFiles
	}
	return append(slices.Clone(cfg.RuleFiles), s.idleRules)
}

// idleAlerts are the firing alerts of the idle policies' rules.
func (s *Server) idleAlerts() []idle.Alert {
	var out []idle.Alert
	for _, g := range s.alerts.rules.Groups() {
		if g.Name() != idle.GroupName || g.File() != s.idleRules {
			continue
		}
		for _, r := range g.Rules() {
			ar, ok := r.(*rules.AlertingRule)
			if !ok {
				continue
			}
			for _, a := range ar.ActiveAlerts() {
				if a.State == rules.StateFiring {
					out = append(out, idle.Alert{Labels: a.Labels.Map(), FiredAt: a.FiredAt, Value: a.Value})
				}
			}
		}
	}
	return out
}

// idleMuted reports whether a silence covers an idle alert.
func (s *Server) idleMuted(ls map[string]string) bool { return len(s.alerts.silences.Mutes(ls)) > 0 }

// announceIdle sends what an idle policy did through routing, as the
// alert GPUPodIdleAction, firing for a few minutes: chat hears of every
// stop, failure and dry run next to the notice that announced it.
func (s *Server) announceIdle(ctx context.Context, r idle.Record) {
	verb := r.Action.Past()
	pod := fmt.Sprintf("pod %s (%s %s)", r.PodName, r.Provider, r.PodID)
	severity, summary := "info", fmt.Sprintf("Idle %s %s by idle policy %s", pod, verb, r.Policy)
	switch r.Result {
	case idle.ResultDryRun:
		summary = fmt.Sprintf("Dry run: idle policy %s would have %s idle %s now; nothing was done", r.Policy, verb, pod)
	case idle.ResultFailed:
		severity = "warning"
		summary = fmt.Sprintf("Idle policy %s could not %s idle %s (attempt %d): %s", r.Policy, r.Action, pod, r.Attempts, r.Error)
	}
	ls := maps.Clone(*s.alerts.externalLabels.Load())
	if ls == nil {
		ls = map[string]string{}
	}
	maps.Copy(ls, r.Labels)
	maps.Copy(ls, map[string]string{"alertname": idle.ActionAlertName, "severity": severity, "idle_policy": r.Policy,
		"idle_action": string(r.Action), "idle_dry_run": fmt.Sprint(r.DryRun), "idle_result": r.Result,
		"provider": r.Provider, "pod_id": r.PodID, "pod_name": r.PodName, "instance": r.Instance})
	for k, v := range ls {
		if v == "" {
			delete(ls, k)
		}
	}
	desc := fmt.Sprintf("Its busiest GPU averaged %.1f%% over 5 minutes; the idle notice fired at %s.", r.Value, r.FiredAt.UTC().Format(time.RFC3339))
	s.alerts.notify(ctx, []rules.Notification{{
		Labels:       labels.FromMap(ls),
		Annotations:  labels.FromStrings("summary", summary, "description", desc),
		StartsAt:     r.At,
		EndsAt:       r.At.Add(5 * time.Minute),
		GeneratorURL: strings.TrimSuffix(s.opts.ExternalURL, "/") + "/provision",
	}})
}
