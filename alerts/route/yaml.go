package route

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Duration is a Prometheus duration (30s, 5m, 4h, 1d), read with its line
// in errors.
type Duration time.Duration

// UnmarshalYAML parses a duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a duration such as 30s or 5m is expected", n.Line)
	}
	v, err := model.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: invalid duration %q: use a number and a unit such as 30s, 5m or 4h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as Prometheus does (4h, 1m30s).
func (d Duration) MarshalYAML() (any, error) { return model.Duration(d).String(), nil }

func (d Duration) String() string { return model.Duration(d).String() }

// Regexp is a value of the deprecated match_re fields: a regular
// expression anchored at both ends.
type Regexp struct {
	*regexp.Regexp
	original string
}

// UnmarshalYAML compiles the expression.
func (re *Regexp) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a regular expression is expected", n.Line)
	}
	r, err := regexp.Compile("^(?:" + n.Value + ")$")
	if err != nil {
		return fmt.Errorf("line %d: invalid regular expression %q: %w", n.Line, n.Value, err)
	}
	re.Regexp, re.original = r, n.Value
	return nil
}

// MarshalYAML writes the expression as it was written.
func (re Regexp) MarshalYAML() (any, error) { return re.original, nil }

// String is the expression as written, without the anchors.
func (re Regexp) String() string { return re.original }

// unsupported are Alertmanager fields gpuwd refuses, where they may appear,
// with why: ignoring them silently would route alerts differently from what
// their author expects.
var unsupported = []struct {
	parent, key, why string
}{
	{"", "templates", "notification templates are set per receiver (title, text)"},
	{"", "time_intervals", "gpuwd has no time intervals"},
	{"", "mute_time_intervals", "gpuwd has no time intervals"},
	{"", "tracing", "gpuwd does not export traces"},
	{"route", "mute_time_intervals", "gpuwd has no time intervals"},
	{"route", "active_time_intervals", "gpuwd has no time intervals"},
	{"route", "object_matchers", "use matchers"},
	{"global", "http_config", "set http_config per receiver"},
	{"receiver", "email_configs", "gpuwd sends no email"},
	{"receiver", "pagerduty_configs", "use webhook_configs"},
	{"receiver", "opsgenie_configs", "use webhook_configs"},
	{"receiver", "victorops_configs", "use webhook_configs"},
	{"receiver", "pushover_configs", "use ntfy_configs or webhook_configs"},
	{"receiver", "wechat_configs", "use webhook_configs"},
	{"receiver", "sns_configs", "use webhook_configs"},
	{"receiver", "telegram_configs", "use webhook_configs"},
	{"receiver", "webex_configs", "use webhook_configs"},
	{"receiver", "msteams_configs", "Office 365 connectors are retired: use msteamsv2_configs"},
	{"receiver", "jira_configs", "use webhook_configs"},
	{"receiver", "rocketchat_configs", "use webhook_configs"},
	{"receiver", "mattermost_configs", "Mattermost accepts slack_configs"},
	{"receiver", "incidentio_configs", "use webhook_configs"},
}

// rejectUnsupported walks the document for the fields of unsupported.
func rejectUnsupported(doc *yaml.Node) error {
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: the configuration must be a mapping (global, route, receivers, inhibit_rules)", top.Line)
	}
	check := func(n *yaml.Node, kind, path string) error {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			for _, u := range unsupported {
				if u.parent == kind && u.key == k.Value {
					return fmt.Errorf("line %d: %s: not supported: %s", k.Line, joinPath(path, k.Value), u.why)
				}
			}
		}
		return nil
	}
	if err := check(top, "", ""); err != nil {
		return err
	}
	if err := check(mapValue(top, "global"), "global", "global"); err != nil {
		return err
	}
	var walk func(n *yaml.Node, path string) error
	walk = func(n *yaml.Node, path string) error {
		if err := check(n, "route", path); err != nil {
			return err
		}
		if rs := mapValue(n, "routes"); rs != nil && rs.Kind == yaml.SequenceNode {
			for i, c := range rs.Content {
				if err := walk(c, fmt.Sprintf("%s.routes[%d]", path, i)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(mapValue(top, "route"), "route"); err != nil {
		return err
	}
	if rs := mapValue(top, "receivers"); rs != nil && rs.Kind == yaml.SequenceNode {
		for i, r := range rs.Content {
			if err := check(r, "receiver", fmt.Sprintf("receivers[%d]", i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapValue is the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// attachLines records where each route, receiver and inhibition rule
// starts, for the errors of validate.
func attachLines(c *Config, top *yaml.Node) {
	var walk func(r *RouteConfig, n *yaml.Node)
	walk = func(r *RouteConfig, n *yaml.Node) {
		if r == nil || n == nil {
			return
		}
		r.line = n.Line
		if rs := mapValue(n, "routes"); rs != nil && rs.Kind == yaml.SequenceNode {
			for i, child := range r.Routes {
				if i < len(rs.Content) {
					walk(child, rs.Content[i])
				}
			}
		}
	}
	walk(c.Route, mapValue(top, "route"))
	if rs := mapValue(top, "receivers"); rs != nil && rs.Kind == yaml.SequenceNode {
		for _, r := range rs.Content {
			c.receiverLines = append(c.receiverLines, r.Line)
		}
	}
	if rt := mapValue(mapValue(top, "global"), "resolve_timeout"); rt != nil {
		c.resolveLine = rt.Line
	}
	if rs := mapValue(top, "inhibit_rules"); rs != nil && rs.Kind == yaml.SequenceNode {
		for i, r := range c.InhibitRules {
			if i < len(rs.Content) && r != nil {
				r.line = rs.Content[i].Line
			}
		}
	}
}

// sections name the Go types of the configuration as the file does, for
// yaml's "field x not found in type y".
var sections = map[string]string{
	"route.Config":       "the top level",
	"route.Global":       "global",
	"route.RouteConfig":  "a route",
	"route.InhibitRule":  "an inhibit rule",
	"receivers.Receiver": "a receiver",
	"slack.Config":       "a slack_config",
	"discord.Config":     "a discord_config",
	"teams.Config":       "an msteamsv2_config",
	"webhook.Config":     "a webhook_config",
	"webhook.HTTPConfig": "an http_config",
	"ntfy.Config":        "an ntfy_config",
}

var (
	notFoundRE = regexp.MustCompile(`field (\S+) not found in type (\S+)`)
	lineRE     = regexp.MustCompile(`^line (\d+): (.*)$`)
)

// friendlyDecodeError adds to yaml's messages the path of the field at
// their line (route.routes[2].group_wait), and names sections instead of Go
// types in those about unknown fields.
func friendlyDecodeError(err error, top *yaml.Node) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	paths := map[int][]string{}
	pathsByLine(top, "", paths)
	out := make([]string, len(msgs))
	for i, msg := range msgs {
		unknown := false
		msg = notFoundRE.ReplaceAllStringFunc(msg, func(s string) string {
			unknown = true
			m := notFoundRE.FindStringSubmatch(s)
			where, ok := sections[m[2]]
			if !ok {
				where = "this section"
			}
			return fmt.Sprintf("unknown field %q in %s", m[1], where)
		})
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			if p := pathAt(paths[line], unknown); p != "" {
				msg = fmt.Sprintf("line %d: %s: %s", line, p, m[2])
			}
		}
		out[i] = msg
	}
	return errors.New(strings.Join(out, "; "))
}

// pathsByLine records the path of each mapping key and sequence item by
// the line it is on.
func pathsByLine(n *yaml.Node, path string, out map[int][]string) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			pathsByLine(c, path, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, p := n.Content[i], joinPath(path, n.Content[i].Value)
			out[k.Line] = append(out[k.Line], p)
			pathsByLine(n.Content[i+1], p, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if c.Kind == yaml.ScalarNode {
				out[c.Line] = append(out[c.Line], p)
			}
			pathsByLine(c, p, out)
		}
	}
}

// pathAt is the path to name for an error on a line with these paths: the
// field's own, or its section's for an unknown field or when several fields
// share the line ({receiver: a, continue: true}).
func pathAt(paths []string, section bool) string {
	switch {
	case len(paths) == 0:
		return ""
	case len(paths) == 1 && !section:
		return paths[0]
	}
	return parentPath(paths[len(paths)-1])
}

func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}
