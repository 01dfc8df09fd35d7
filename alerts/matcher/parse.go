package matcher

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// matcherRE splits one matcher into name, operator and raw value. '=~' comes
// before '=' so that the '~' is not taken as the value's first character.
// The name is a classic label name or a double-quoted string, as
// Alertmanager's UTF-8 parser allows.
var matcherRE = regexp.MustCompile(`^\s*("(?:[^"\\]|\\.)*"|[a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$`)

var types = map[string]Type{"=": Equal, "!=": NotEqual, "=~": Regexp, "!~": NotRegexp}

// Parse reads a comma-separated list of matchers, optionally inside {…}, as
// Alertmanager reads each entry of a `matchers:` list and amtool its
// arguments:
//
//	{severity=~"warning|critical", alertname!=Foo}
//	severity="critical",instance=node-1:9400
//
// Commas inside double quotes do not separate; a trailing comma is allowed.
func Parse(s string) (Matchers, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "{")
	s = strings.TrimSuffix(s, "}")
	var (
		tokens   []string
		token    strings.Builder
		inQuotes bool
		escaped  bool
	)
	for _, r := range s {
		switch r {
		case ',':
			if !inQuotes {
				tokens = append(tokens, token.String())
				token.Reset()
				continue
			}
		case '"':
			if !escaped {
				inQuotes = !inQuotes
			}
		}
		escaped = r == '\\' && !escaped
		token.WriteRune(r)
	}
	if last := strings.TrimSpace(token.String()); last != "" {
		tokens = append(tokens, last)
	}
	ms := make(Matchers, 0, len(tokens))
	for _, t := range tokens {
		m, err := ParseOne(t)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// ParseOne reads a single matcher: a label name, one of = != =~ !~, and a
// value that may be double-quoted. Inside the value \" is a quote, \n a
// newline and \\ a backslash; any other backslash is literal.
func ParseOne(s string) (*Matcher, error) {
	ms := matcherRE.FindStringSubmatch(s)
	if ms == nil {
		return nil, fmt.Errorf("bad matcher format: %s", s)
	}
	name := ms[1]
	if strings.HasPrefix(name, `"`) {
		unq, err := strconv.Unquote(name)
		if err != nil || unq == "" || !utf8.ValidString(unq) {
			return nil, fmt.Errorf("bad matcher format: %s: invalid label name %s", s, name)
		}
		name = unq
	}
	value, err := unescapeValue(ms[3])
	if err != nil {
		return nil, err
	}
	m, err := New(types[ms[2]], name, value)
	if err != nil {
		return nil, fmt.Errorf("bad matcher %s: %w", s, err)
	}
	return m, nil
}

func unescapeValue(raw string) (string, error) {
	if !utf8.ValidString(raw) {
		return "", fmt.Errorf("matcher value not valid UTF-8: %s", raw)
	}
	quoted := strings.HasPrefix(raw, `"`)
	body := raw
	if quoted {
		body = raw[1:]
	}
	var (
		b       strings.Builder
		escaped bool
		closed  bool
	)
	for i, r := range body {
		if closed {
			return "", fmt.Errorf("matcher value contains unescaped double quote: %s", raw)
		}
		if escaped {
			escaped = false
			switch r {
			case 'n':
				b.WriteByte('\n')
			case '"', '\\':
				b.WriteRune(r)
			default: // a spurious escape is a literal backslash
				b.WriteByte('\\')
				b.WriteRune(r)
			}
			continue
		}
		switch r {
		case '\\':
			if i == len(body)-1 {
				b.WriteByte('\\') // a last lone backslash is literal
				continue
			}
			escaped = true
		case '"':
			if !quoted || i != len(body)-1 {
				return "", fmt.Errorf("matcher value contains unescaped double quote: %s", raw)
			}
			closed = true
		default:
			b.WriteRune(r)
		}
	}
	if quoted && !closed {
		return "", fmt.Errorf("matcher value contains unescaped double quote: %s", raw)
	}
	return b.String(), nil
}
