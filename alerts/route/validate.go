package route

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/matcher"
)

// problems gathers validation errors, each with its line and path.
type problems []error

func (p *problems) add(line int, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	if line > 0 {
		msg = fmt.Sprintf("line %d: %s", line, msg)
	}
	*p = append(*p, errors.New(msg))
}

// validate checks the configuration as amtool check-config does, fills
// the defaults and builds the routing tree.
func (c *Config) validate() error {
	var p problems
	switch {
	case c.Global.ResolveTimeout != 0:
	case c.resolveLine > 0:
		p.add(c.resolveLine, "global.resolve_timeout", "must be greater than zero")
	default:
		c.Global.ResolveTimeout = Duration(DefaultResolveTimeout)
	}

	names := map[string]bool{}
	for i := range c.Receivers {
		r := &c.Receivers[i]
		path, line := fmt.Sprintf("receivers[%d]", i), 0
		if i < len(c.receiverLines) {
			line = c.receiverLines[i]
		}
		switch {
		case r.Name == "":
			p.add(line, path, "missing name")
			continue
		case names[r.Name]:
			p.add(line, path, "receiver name %q is not unique", r.Name)
		}
		names[r.Name] = true
		if err := r.Validate(); err != nil {
			p.add(line, path, "%v", err)
		}
	}

	switch r := c.Route; {
	case r == nil:
		p.add(0, "route", "missing: the root route names the default receiver")
	default:
		if r.Receiver == "" {
			p.add(r.line, "route", "root route must specify a default receiver")
		}
		if len(r.Matchers) > 0 || len(r.Match) > 0 || len(r.MatchRE) > 0 {
			p.add(r.line, "route", "root route must not have any matchers: it is the fallback for every alert")
		}
		if r.Continue {
			p.add(r.line, "route", "cannot have continue in root route")
		}
		r.check(&p, "route", names)
	}

	for i, ir := range c.InhibitRules {
		path := fmt.Sprintf("inhibit_rules[%d]", i)
		if ir == nil {
			p.add(0, path, "empty rule")
			continue
		}
		for k := range ir.SourceMatch {
			checkLabelName(&p, ir.line, path+".source_match", k)
		}
		for k := range ir.TargetMatch {
			checkLabelName(&p, ir.line, path+".target_match", k)
		}
		checkRegexps(&p, ir.line, path+".source_match_re", ir.SourceMatchRE)
		checkRegexps(&p, ir.line, path+".target_match_re", ir.TargetMatchRE)
		for _, l := range ir.Equal {
			checkLabelName(&p, ir.line, path+".equal", l)
		}
	}

	if len(p) > 0 {
		return errors.Join(p...)
	}
	for _, ir := range c.InhibitRules {
		ir.source = combine(ir.SourceMatch, ir.SourceMatchRE, ir.SourceMatchers)
		ir.target = combine(ir.TargetMatch, ir.TargetMatchRE, ir.TargetMatchers)
	}
	c.root = newRoute(c.Route, nil, 0)
	c.root.Walk(func(r *Route) {
		if r.RepeatInterval < r.GroupInterval {
			c.warnings = append(c.warnings, fmt.Sprintf(
				"route %s: repeat_interval %s is less than group_interval %s: notifications will not repeat until the next group_interval",
				r.Key(), fmtDuration(r.RepeatInterval), fmtDuration(r.GroupInterval)))
		}
	})
	return nil
}

func fmtDuration(d time.Duration) string { return Duration(d).String() }

// check validates one route and its children.
func (r *RouteConfig) check(p *problems, path string, receivers map[string]bool) {
	if r.Receiver != "" && !receivers[r.Receiver] {
		p.add(r.line, path+".receiver", "undefined receiver %q (define it under receivers)", r.Receiver)
	}
	seen := map[string]bool{}
	for _, l := range r.GroupBy {
		switch {
		case l == "...":
			if len(r.GroupBy) > 1 {
				p.add(r.line, path+".group_by", "cannot have wildcard group_by (`...`) and other labels at the same time")
			}
		case seen[l]:
			p.add(r.line, path+".group_by", "duplicated label %q", l)
		default:
			checkLabelName(p, r.line, path+".group_by", l)
		}
		seen[l] = true
	}
	for k := range r.Match {
		checkLabelName(p, r.line, path+".match", k)
	}
	checkRegexps(p, r.line, path+".match_re", r.MatchRE)
	if r.GroupInterval != nil && *r.GroupInterval == 0 {
		p.add(r.line, path+".group_interval", "group_interval cannot be zero")
	}
	if r.RepeatInterval != nil && *r.RepeatInterval == 0 {
		p.add(r.line, path+".repeat_interval", "repeat_interval cannot be zero")
	}
	for i, child := range r.Routes {
		cp := fmt.Sprintf("%s.routes[%d]", path, i)
		if child == nil {
			p.add(r.line, cp, "empty route")
			continue
		}
		child.check(p, cp, receivers)
	}
}

func checkLabelName(p *problems, line int, path, name string) {
	if !matcher.IsValidLabelName(name) {
		p.add(line, path, "invalid label name %q", name)
	}
}

// checkRegexps checks a match_re map: its label names, and that each has an
// expression (YAML's `a:` and `a: null` leave the Regexp empty, as
// Regexp.UnmarshalYAML is not called for a null).
func checkRegexps(p *problems, line int, path string, m map[string]Regexp) {
	for k, re := range m {
		checkLabelName(p, line, path, k)
		if re.Regexp == nil {
			p.add(line, path, "label %q: a regular expression is expected", k)
		}
	}
}

// combine merges the deprecated match and match_re maps with matchers, in
// Alertmanager's order (sorted, as route keys print them).
func combine(eq map[string]string, re map[string]Regexp, ms matcher.Matchers) matcher.Matchers {
	out := matcher.Matchers{}
	for _, k := range sortedKeys(eq) {
		out = append(out, matcher.MustNew(matcher.Equal, k, eq[k]))
	}
	for _, k := range sortedKeys(re) {
		// Alertmanager builds these from the compiled expression, anchors
		// included, and its route keys show them so.
		out = append(out, matcher.MustNew(matcher.Regexp, k, re[k].Regexp.String()))
	}
	out = append(out, ms...)
	out.Sort()
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
