package matcher

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// UnmarshalYAML reads a YAML list of strings, each parsed with Parse (so one
// entry may hold several matchers), as Alertmanager's `matchers:` fields.
// Errors name the entry's line.
func (ms *Matchers) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: matchers must be a list of strings such as 'severity=\"critical\"'", n.Line)
	}
	out := Matchers{}
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: matchers must be a list of strings such as 'severity=\"critical\"'", item.Line)
		}
		parsed, err := Parse(item.Value)
		if err != nil {
			return fmt.Errorf("line %d: %w", item.Line, err)
		}
		out = append(out, parsed...)
	}
	*ms = out
	return nil
}

// MarshalYAML writes one string per matcher.
func (ms Matchers) MarshalYAML() (any, error) {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out, nil
}
