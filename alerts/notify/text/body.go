package text

import (
	"fmt"
	"strings"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

// DefaultMaxAlerts is how many alerts a message shows before it counts the
// rest: enough to see a pattern, few enough to read on a phone.
const DefaultMaxAlerts = 10

// LinkLabel is the text of links to the dashboard.
const LinkLabel = "Open in gpu-watchdog"

// Text is the alert's summary and description in mk.
func (v Alert) Text(mk Markup) string {
	ps := v.Paragraphs()
	for i, p := range ps {
		ps[i] = mk.Text(p)
	}
	return mk.Paragraphs(ps...)
}

// FactList lays facts out one per line ("Severity: critical"), as a list in
// CommonMark.
func FactList(facts []Fact, mk Markup) string {
	lines := make([]string, len(facts))
	for i, f := range facts {
		var line string
		switch mk {
		case Plain:
			line = f.Name + ": " + f.Value
		case CommonMark:
			line = "- " + mk.Bold(f.Name+":") + " " + mk.Escape(f.Value)
		default:
			line = mk.Bold(f.Name+":") + " " + mk.Escape(f.Value)
		}
		lines[i] = line
	}
	return strings.Join(lines, "\n")
}

// Block is one alert in full: heading, text, facts and link.
func (v Alert) Block(mk Markup) string {
	return mk.Paragraphs(mk.Bold(v.Heading()), v.Text(mk), FactList(v.Facts(), mk), mk.Link(LinkLabel, v.Link))
}

// More says how many alerts a message left out, linking to where they
// all are: "…and 3 more alerts".
func More(n int, link string, mk Markup) string {
	s := fmt.Sprintf("…and %d more alerts", n)
	if n == 1 {
		s = "…and 1 more alert"
	}
	if link == "" {
		return mk.Escape(s)
	}
	return mk.Escape(s) + " (" + mk.Link("see all", link) + ")"
}

// Options shape Body.
type Options struct {
	Markup Markup
	// MaxAlerts is how many alerts are shown in full; the rest are
	// counted. Zero means DefaultMaxAlerts.
	MaxAlerts int
	// MaxLen caps the body in runes: alerts that would not fit are
	// counted instead of shown. Zero: no cap.
	MaxLen int
}

// Body is the default rendering of a whole message: each alert's block in
// the order the message has them (firing first), then how many more there
// are.
func Body(m *notify.Message, o Options) string {
	mk := o.Markup
	maxAlerts := o.MaxAlerts
	if maxAlerts <= 0 {
		maxAlerts = DefaultMaxAlerts
	}
	const sep = "\n\n"
	link := GroupLink(m)
	total := len(m.Alerts) + m.TruncatedAlerts
	// Room kept for the "more" line, whatever its count.
	reserve := Len(More(total, link, mk)) + Len(sep)
	var blocks []string
	used := 0
	for i, a := range m.Alerts {
		if i == maxAlerts {
			break
		}
		b := NewAlert(m, a).Block(mk)
		room := o.MaxLen - used
		if i < len(m.Alerts)-1 || m.TruncatedAlerts > 0 {
			room -= reserve
		}
		if o.MaxLen > 0 && Len(b) > room {
			if i == 0 && room > 0 { // show the first alert, cut, rather than none
				blocks = append(blocks, Truncate(b, room))
			}
			break
		}
		blocks = append(blocks, b)
		used += Len(b) + Len(sep)
	}
	if rest := total - len(blocks); rest > 0 {
		blocks = append(blocks, More(rest, link, mk))
	}
	s := strings.Join(blocks, sep)
	if o.MaxLen > 0 {
		s = Truncate(s, o.MaxLen) // only when MaxLen cannot even hold the count
	}
	return s
}

// GroupLink is the dashboard page for the whole message: the alerts' page
// when they all share one (one node), else the alerts page. Empty without
// an external URL.
func GroupLink(m *notify.Message) string {
	if m.ExternalURL == "" {
		return ""
	}
	var link string
	for i, a := range m.Alerts {
		l := m.Link(a)
		if i > 0 && l != link {
			return strings.TrimSuffix(m.ExternalURL, "/") + "/alerts"
		}
		link = l
	}
	if link == "" {
		return strings.TrimSuffix(m.ExternalURL, "/") + "/alerts"
	}
	return link
}
