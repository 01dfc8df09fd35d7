package route

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/matcher"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/receivers"
	"go.yaml.in/yaml/v3"
)

// Alertmanager's defaults.
const (
	DefaultGroupWait      = 30 * time.Second
	DefaultGroupInterval  = 5 * time.Minute
	DefaultRepeatInterval = 4 * time.Hour
	DefaultResolveTimeout = 5 * time.Minute
)

// Config is the alerting configuration. Parse and Load return it checked,
// with its routing tree built (Root).
type Config struct {
	Global       Global               `yaml:"global"`
	Route        *RouteConfig         `yaml:"route,omitempty"`
	InhibitRules []*InhibitRule       `yaml:"inhibit_rules,omitempty"`
	Receivers    []receivers.Receiver `yaml:"receivers,omitempty"`

	root     *Route
	warnings []string
	// resolveLine is the line of an explicit global.resolve_timeout.
	resolveLine int
	// receiverLines are where the receivers start.
	receiverLines []int
}

// Global holds the settings that apply to every alert.
type Global struct {
	// ResolveTimeout resolves an alert that arrives without an end time
	// (EndsAt) once it has not been refreshed for this long.
	ResolveTimeout Duration `yaml:"resolve_timeout"`
}

// RouteConfig is one node of the route tree as written. Unset fields are
// inherited from the parent when the tree is built.
type RouteConfig struct {
	Receiver string `yaml:"receiver,omitempty"`
	// GroupBy lists the labels that split alerts into groups; ["..."]
	// groups by all labels. nil inherits the parent's; an empty list puts
	// every alert of the route into one group.
	GroupBy  LabelNames       `yaml:"group_by,omitempty"`
	Matchers matcher.Matchers `yaml:"matchers,omitempty"`
	// Match and MatchRE are Alertmanager's deprecated equality and regex
	// matchers; they still work.
	Match          map[string]string `yaml:"match,omitempty"`
	MatchRE        map[string]Regexp `yaml:"match_re,omitempty"`
	Continue       bool              `yaml:"continue,omitempty"`
	GroupWait      *Duration         `yaml:"group_wait,omitempty"`
	GroupInterval  *Duration         `yaml:"group_interval,omitempty"`
	RepeatInterval *Duration         `yaml:"repeat_interval,omitempty"`
	Routes         []*RouteConfig    `yaml:"routes,omitempty"`

	line int
}

// InhibitRule mutes the alerts that match the target matchers while an
// alert that matches the source matchers fires with the same values of the
// Equal labels.
type InhibitRule struct {
	Name           string            `yaml:"name,omitempty"`
	SourceMatchers matcher.Matchers  `yaml:"source_matchers,omitempty"`
	TargetMatchers matcher.Matchers  `yaml:"target_matchers,omitempty"`
	SourceMatch    map[string]string `yaml:"source_match,omitempty"`
	SourceMatchRE  map[string]Regexp `yaml:"source_match_re,omitempty"`
	TargetMatch    map[string]string `yaml:"target_match,omitempty"`
	TargetMatchRE  map[string]Regexp `yaml:"target_match_re,omitempty"`
	Equal          []string          `yaml:"equal,omitempty"`

	line           int
	source, target matcher.Matchers
}

// Sources are all the rule's source matchers (deprecated forms included).
func (r *InhibitRule) Sources() matcher.Matchers { return r.source }

// Targets are all the rule's target matchers (deprecated forms included).
func (r *InhibitRule) Targets() matcher.Matchers { return r.target }

// Root is the routing tree.
func (c *Config) Root() *Route { return c.root }

// ResolveTimeout is global.resolve_timeout.
func (c *Config) ResolveTimeout() time.Duration { return time.Duration(c.Global.ResolveTimeout) }

// Warnings are what Alertmanager logs about a valid configuration that may
// not do what its author meant.
func (c *Config) Warnings() []string { return c.warnings }

// Receiver returns the receiver named name.
func (c *Config) Receiver(name string) (*receivers.Receiver, bool) {
	for i := range c.Receivers {
		if c.Receivers[i].Name == name {
			return &c.Receivers[i], true
		}
	}
	return nil, false
}

// String is the configuration as YAML, defaults filled in and secrets
// hidden (what /api/v2/status shows as config.original).
func (c *Config) String() string {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return fmt.Sprintf("<error creating config string: %s>", err)
	}
	return b.String()
}

// LabelNames is a list of label names where nil (not set) and empty (set
// to []) differ, also when written back as YAML.
type LabelNames []string

// IsZero makes omitempty leave out only a list that was not set.
func (l LabelNames) IsZero() bool { return l == nil }

// Load reads and checks a configuration file.
func Load(file string) (*Config, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("alerting config: %w", err)
	}
	c, err := parse(b, filepath.Dir(file))
	if err != nil {
		return nil, fmt.Errorf("alerting config %s: %w", file, err)
	}
	return c, nil
}

// Parse checks a configuration held in memory. Unknown fields are errors;
// every error names its line and the field's path (route.routes[2].receiver).
// Relative *_file paths stay relative to the working directory; Load
// resolves them against the file's directory, as Alertmanager does.
func Parse(b []byte) (*Config, error) { return parse(b, "") }

func parse(b []byte, dir string) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, errors.New("the configuration is empty: it needs at least a route and a receiver")
	}
	if err := rejectUnsupported(&doc); err != nil {
		return nil, err
	}
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, friendlyDecodeError(err, &doc)
	}
	attachLines(c, doc.Content[0])
	if dir != "" {
		for i := range c.Receivers {
			c.Receivers[i].ResolvePaths(dir)
		}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}
