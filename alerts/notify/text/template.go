package text

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

// maxOutput caps what a template may write; services cut far shorter.
const maxOutput = 1 << 20

// Template is a user's Go template over a *notify.Message: {{ .Status }},
// {{ range .Alerts }}…{{ end }}, {{ .CommonLabels.severity }}, and the
// functions in Funcs.
type Template struct {
	t *template.Template
}

// Funcs are the functions templates may call besides text/template's own.
func Funcs() template.FuncMap {
	return template.FuncMap{
		"toUpper":   strings.ToUpper,
		"toLower":   strings.ToLower,
		"title":     titleCase,
		"join":      func(sep string, s []string) string { return strings.Join(s, sep) },
		"trimSpace": strings.TrimSpace,
		"truncate":  func(n int, s string) string { return Truncate(s, n) },
		// node names an alert's node: {{ node .Labels }}.
		"node": notify.NodeOf,
		// alert reads one alert as the default rendering does:
		// {{ with alert $ . }}{{ .Heading }} {{ .GPUText }}{{ end }}.
		"alert": func(m *notify.Message, a notify.Alert) Alert { return NewAlert(m, a) },
		// date shows a time as messages do, in UTC.
		"date": func(t time.Time) string { return formatTime(t) },
	}
}

// Parse compiles src, named for errors after the config field it came
// from. An empty src gives a nil *Template: use the default rendering.
func Parse(name, src string) (*Template, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	t, err := template.New(name).Funcs(Funcs()).Option("missingkey=zero").Parse(src)
	if err != nil {
		return nil, err
	}
	return &Template{t: t}, nil
}

// Execute runs t over m.
func (t *Template) Execute(m *notify.Message) (string, error) {
	var b limitedBuffer
	if err := t.t.Execute(&b, m); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// Render is t's output over m, or def when t is nil or writes nothing.
// When t fails it is def again, with the error for the caller to log: the
// message goes out in the default rendering rather than not at all.
func Render(t *Template, m *notify.Message, def string) (string, error) {
	if t == nil {
		return def, nil
	}
	s, err := t.Execute(m)
	if err != nil {
		return def, err
	}
	if s == "" {
		return def, nil
	}
	return s, nil
}

// limitedBuffer stops a runaway template (a range over a huge slice).
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxOutput {
		return 0, fmt.Errorf("output larger than %d bytes", maxOutput)
	}
	return b.Buffer.Write(p)
}

// titleCase upper-cases the first letter of each word.
func titleCase(s string) string {
	var b strings.Builder
	start := true
	for _, r := range s {
		if start {
			r = unicode.ToTitle(r)
		}
		b.WriteRune(r)
		start = unicode.IsSpace(r) || r == '-' || r == '_'
	}
	return b.String()
}

// ParseTitleBody parses a notifier's two templates, the title and the body
// (named bodyField in errors: text, message), nil when unset.
func ParseTitleBody(title, bodyField, body string) (*Template, *Template, error) {
	t, err := Parse("title", title)
	if err != nil {
		return nil, nil, err
	}
	b, err := Parse(bodyField, body)
	if err != nil {
		return nil, nil, err
	}
	return t, b, nil
}
