package rules

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// LoadOptions are the settings every loaded group shares.
type LoadOptions struct {
	// DefaultInterval is the interval of groups that set none
	// (global.evaluation_interval).
	DefaultInterval time.Duration
	// ExternalLabels and ExternalURL are what templates see as
	// $externalLabels and $externalURL.
	ExternalLabels map[string]string
	ExternalURL    string
}

// ExpandFiles resolves rule_files patterns (globs, as in Prometheus) to
// files, sorted and without duplicates. A pattern that matches nothing is
// not an error, as in Prometheus; a malformed pattern is.
func ExpandFiles(patterns []string) ([]string, error) {
	seen := map[string]bool{}
	var files []string
	for _, p := range patterns {
		matches, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("rule_files %q: %w", p, err)
		}
		for _, f := range matches {
			if !seen[f] {
				seen[f] = true
				files = append(files, f)
			}
		}
	}
	slices.Sort(files)
	return files, nil
}

// LoadFiles parses and validates files into groups. Every error of every
// file is returned (joined), each naming the file, line, group and rule.
func LoadFiles(files []string, opts LoadOptions) ([]*Group, error) {
	var groups []*Group
	var errs []error
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		gs, err := Parse(f, b, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		groups = append(groups, gs...)
	}
	return groups, errors.Join(errs...)
}

// Parse parses one rule file's content; file names it in errors and in
// the groups.
func Parse(file string, content []byte, opts LoadOptions) ([]*Group, error) {
	p := parser.NewParser(parser.Options{})
	rgs, errs := rulefmt.Parse(content, false, model.UTF8Validation, p, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		// rulefmt decodes the YAML twice (values, then nodes for line
		// numbers), so a YAML error comes twice, once per type.
		seen := map[string]bool{}
		var out []error
		for _, err := range errs {
			key := strings.ReplaceAll(err.Error(), "rulefmt.ruleGroups", "rulefmt.RuleGroups")
			if !seen[key] {
				seen[key] = true
				out = append(out, fmt.Errorf("%s: %w", file, err))
			}
		}
		return nil, errors.Join(out...)
	}
	interval := opts.DefaultInterval
	if interval <= 0 {
		interval = time.Minute
	}
	ext := externals{labels: opts.ExternalLabels, url: opts.ExternalURL}
	var groups []*Group
	for _, rg := range rgs.Groups {
		g := &Group{name: rg.Name, file: file, interval: interval, limit: rg.Limit}
		if rg.Interval > 0 {
			g.interval = time.Duration(rg.Interval)
		}
		if rg.QueryOffset != nil {
			g.queryOffset = time.Duration(*rg.QueryOffset)
		}
		for _, r := range rg.Rules {
			expr, err := p.ParseExpr(r.Expr)
			if err != nil { // validated above; cannot happen
				return nil, fmt.Errorf("%s: group %q, rule %q: %w", file, rg.Name, r.Alert+r.Record, err)
			}
			lset := ruleLabels(rg.Labels, r.Labels)
			if r.Record != "" {
				g.rules = append(g.rules, &RecordingRule{name: r.Record, query: expr.String(), labels: lset})
				continue
			}
			g.rules = append(g.rules, &AlertingRule{
				name:          r.Alert,
				query:         expr.String(),
				hold:          time.Duration(r.For),
				keepFiringFor: time.Duration(r.KeepFiringFor),
				labels:        lset,
				annotations:   labels.FromMap(r.Annotations),
				external:      ext,
				active:        map[uint64]*Alert{},
			})
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// ruleLabels are the group's labels overridden by the rule's.
func ruleLabels(group, rule map[string]string) labels.Labels {
	m := maps.Clone(group)
	if m == nil {
		m = map[string]string{}
	}
	maps.Copy(m, rule)
	return labels.FromMap(m)
}

// CheckResult is what `gpuwd rules check` reports for one file.
type CheckResult struct {
	File     string
	Rules    int
	Errors   []error
	Warnings []string
}

// Check reads a file and checks it with CheckContent.
func Check(file string) CheckResult {
	b, err := os.ReadFile(file)
	if err != nil {
		return CheckResult{File: file, Errors: []error{err}}
	}
	return CheckContent(file, b)
}

// CheckContent validates a rule file's content as promtool check rules
// does, and adds warnings for mistakes that parse but misbehave: duplicate
// rules, and $value in labels (the alert would be a new one at every
// evaluation, so `for` never completes). file names it in the messages.
func CheckContent(file string, content []byte) CheckResult {
	res := CheckResult{File: file}
	groups, err := Parse(file, content, LoadOptions{})
	if err != nil {
		res.Errors = unjoin(err)
		return res
	}
	for _, g := range groups {
		seen := map[string]bool{}
		for _, r := range g.rules {
			res.Rules++
			id := r.Name() + r.Labels().String()
			if seen[id] {
				res.Warnings = append(res.Warnings, fmt.Sprintf("group %q: rule %q with labels %s is defined twice", g.name, r.Name(), r.Labels()))
			}
			seen[id] = true
			r.Labels().Range(func(l labels.Label) {
				if strings.Contains(l.Value, "$value") || strings.Contains(l.Value, ".Value") {
					res.Warnings = append(res.Warnings, fmt.Sprintf("group %q, rule %q: label %q uses $value: every change of value makes a new alert, so `for` never completes; put it in an annotation", g.name, r.Name(), l.Name))
				}
			})
		}
	}
	return res
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
