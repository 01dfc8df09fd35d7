package matcher

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Type is how a matcher compares a label's value.
type Type int

// The four match types, in Alertmanager's order (which sorting uses).
const (
	Equal Type = iota
	NotEqual
	Regexp
	NotRegexp
)

func (t Type) String() string {
	switch t {
	case Equal:
		return "="
	case NotEqual:
		return "!="
	case Regexp:
		return "=~"
	case NotRegexp:
		return "!~"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Matcher tests one label. A missing label has the empty value, so
// `severity=""` matches alerts without severity and `severity!=""` those
// with one. Regular expressions are anchored at both ends.
type Matcher struct {
	Type  Type
	Name  string
	Value string
	re    *regexp.Regexp
}

// New returns a matcher, compiling the value when t is a regex type.
func New(t Type, name, value string) (*Matcher, error) {
	m := &Matcher{Type: t, Name: name, Value: value}
	switch t {
	case Equal, NotEqual:
	case Regexp, NotRegexp:
		re, err := regexp.Compile("^(?:" + value + ")$")
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression %q: %w", value, err)
		}
		m.re = re
	default:
		return nil, fmt.Errorf("unknown match type %d", int(t))
	}
	return m, nil
}

// MustNew is New for values known to be valid; it panics otherwise.
func MustNew(t Type, name, value string) *Matcher {
	m, err := New(t, name, value)
	if err != nil {
		panic(err)
	}
	return m
}

// Matches reports whether a label's value (empty when missing) matches.
func (m *Matcher) Matches(v string) bool {
	switch m.Type {
	case Equal:
		return v == m.Value
	case NotEqual:
		return v != m.Value
	case Regexp:
		return m.re.MatchString(v)
	case NotRegexp:
		return !m.re.MatchString(v)
	}
	return false
}

// MatchesEmpty reports whether the matcher matches a missing label.
func (m *Matcher) MatchesEmpty() bool { return m.Matches("") }

// String prints the matcher as Alertmanager does: name="value" with
// OpenMetrics escaping, or both quoted when the name needs quotes.
func (m *Matcher) String() string {
	if strings.ContainsFunc(m.Name, isReserved) {
		return strconv.Quote(m.Name) + m.Type.String() + strconv.Quote(m.Value)
	}
	return m.Name + m.Type.String() + `"` + escape(m.Value) + `"`
}

// escape is OpenMetrics' escaping: backslash, newline and double quote.
func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(s)
}

func isReserved(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("{}!=~,\\\"'`", r)
}

// Matchers is a conjunction: all must match.
type Matchers []*Matcher

// Matches reports whether every matcher matches labels (a missing label
// being empty).
func (ms Matchers) Matches(labels map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(labels[m.Name]) {
			return false
		}
	}
	return true
}

// String prints {a="b",c=~"d"}, as Alertmanager's route keys do.
func (ms Matchers) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.String())
	}
	b.WriteByte('}')
	return b.String()
}

// Sort orders matchers by name, then value, then type, as Alertmanager
// does before it prints a route's key.
func (ms Matchers) Sort() {
	slices.SortStableFunc(ms, func(a, b *Matcher) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := strings.Compare(a.Value, b.Value); c != 0 {
			return c
		}
		return int(a.Type) - int(b.Type)
	})
}

// Equal reports whether two lists hold the same matchers in the same order.
func (ms Matchers) Equal(other Matchers) bool {
	return slices.EqualFunc(ms, other, func(a, b *Matcher) bool {
		return a.Type == b.Type && a.Name == b.Name && a.Value == b.Value
	})
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// IsValidLabelName reports whether name is a Prometheus label name, as
// Alertmanager checks the names in its configuration and in silences.
func IsValidLabelName(name string) bool { return labelNameRE.MatchString(name) }
