package userrules

import (
	"bytes"
	"fmt"
	"maps"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

const (
	// File is the File() of the dashboard rules' group in the rule
	// manager, so pages can tell them from file rules.
	File = "dashboard"
	// Group is the name of their one group, evaluated at the global
	// evaluation interval.
	Group = "dashboard"
)

// Rule is an alerting rule edited in the dashboard.
type Rule struct {
	Name          string // the alert name; unique among dashboard rules
	Expr          string // PromQL, as typed
	For           time.Duration
	KeepFiringFor time.Duration
	Labels        map[string]string // may hold templates
	Annotations   map[string]string // templates
	// UpdatedBy and UpdatedAt are who saved it last, and when; Version
	// changes with every save. Save and Delete take the Version that was
	// read and fail with ErrConflict when the rule changed since.
	UpdatedBy string
	UpdatedAt time.Time
	Version   int64
}

// clone copies r's maps; empty ones become nil.
func (r Rule) clone() Rule {
	r.Labels, r.Annotations = cloneMap(r.Labels), cloneMap(r.Annotations)
	return r
}

func cloneMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// header opens every file Marshal writes.
const header = "# Alerting rules edited in the gpu-watchdog dashboard.\n"

// The rule file's shape: rulefmt's, with only what dashboard rules set.
type (
	fileYAML struct {
		Groups []groupYAML `yaml:"groups"`
	}
	groupYAML struct {
		Name  string     `yaml:"name"`
		Rules []ruleYAML `yaml:"rules"`
	}
	ruleYAML struct {
		Alert         string            `yaml:"alert"`
		Expr          string            `yaml:"expr"`
		For           model.Duration    `yaml:"for,omitempty"`
		KeepFiringFor model.Duration    `yaml:"keep_firing_for,omitempty"`
		Labels        map[string]string `yaml:"labels,omitempty"`
		Annotations   map[string]string `yaml:"annotations,omitempty"`
	}
)

// Marshal writes rules, in order, as a Prometheus rule file of one group
// named Group; no rules give a file without groups. Durations are written
// in whole milliseconds, which Validate requires.
func Marshal(rules []Rule) ([]byte, error) {
	f := fileYAML{Groups: []groupYAML{}}
	if len(rules) > 0 {
		g := groupYAML{Name: Group}
		for _, r := range rules {
			g.Rules = append(g.Rules, ruleYAML{
				Alert:         r.Name,
				Expr:          r.Expr,
				For:           model.Duration(r.For),
				KeepFiringFor: model.Duration(r.KeepFiringFor),
				Labels:        r.Labels,
				Annotations:   r.Annotations,
			})
		}
		f.Groups = append(f.Groups, g)
	}
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("userrules: write rule file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("userrules: write rule file: %w", err)
	}
	return buf.Bytes(), nil
}
