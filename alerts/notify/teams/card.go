package teams

import (
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/text"
)

// Teams refuses messages over about 28 KB; this leaves room for headers.
const maxPayload = 27 << 10

// Text sizes that keep ten alerts inside maxPayload.
const (
	maxTitle     = 400
	maxAlertText = 1000
	maxFactValue = 300
	maxText      = 20000 // a user's text, alone on the card
)

// Adaptive Card colours, as Alertmanager's msteamsv2 has them.
const (
	colorFiring   = "Attention"
	colorResolved = "Good"
)

// message is a Workflows webhook body: a message with one Adaptive Card.
type message struct {
	Type        string       `json:"type"`
	Attachments []attachment `json:"attachments"`
}

type attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"` // null, as Teams expects
	Content     card    `json:"content"`
}

type card struct {
	Schema  string    `json:"$schema"`
	Type    string    `json:"type"`
	Version string    `json:"version"`
	Body    []element `json:"body"`
	Actions []action  `json:"actions,omitempty"`
	MSTeams msteams   `json:"msteams"`
}

type msteams struct {
	Width string `json:"width"`
}

// element is a TextBlock, FactSet or Container.
type element struct {
	Type      string    `json:"type"`
	Text      string    `json:"text,omitempty"`
	Weight    string    `json:"weight,omitempty"`
	Size      string    `json:"size,omitempty"`
	Color     string    `json:"color,omitempty"`
	Style     string    `json:"style,omitempty"`
	Wrap      bool      `json:"wrap,omitempty"`
	Separator bool      `json:"separator,omitempty"`
	Spacing   string    `json:"spacing,omitempty"`
	Facts     []fact    `json:"facts,omitempty"`
	Items     []element `json:"items,omitempty"`
}

type fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type action struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// build lays m out as a card under title: with the user's text when it is
// set, else at most shown alerts in full.
func build(m *notify.Message, title, userText string, shown int) message {
	mk := text.CommonMark
	c := card{
		Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
		Type:    "AdaptiveCard",
		Version: "1.2",
		MSTeams: msteams{Width: "Full"},
		Body: []element{{
			Type:   "TextBlock",
			Text:   text.Truncate(title, maxTitle),
			Weight: "Bolder",
			Size:   "Medium",
			Style:  "heading",
			Color:  color(m.Status),
			Wrap:   true,
		}},
	}
	if userText != "" {
		c.Body = append(c.Body, textBlock(text.Truncate(userText, maxText)))
	} else {
		for i, a := range m.Alerts {
			if i == shown {
				break
			}
			c.Body = append(c.Body, alertContainer(text.NewAlert(m, a)))
		}
		if more := len(m.Alerts) - min(shown, len(m.Alerts)) + m.TruncatedAlerts; more > 0 {
			c.Body = append(c.Body, textBlock(text.More(more, text.GroupLink(m), mk)))
		}
	}
	if link := text.GroupLink(m); link != "" {
		c.Actions = []action{{Type: "Action.OpenUrl", Title: text.LinkLabel, URL: link}}
	}
	return message{
		Type: "message",
		Attachments: []attachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content:     c,
		}},
	}
}

func alertContainer(v text.Alert) element {
	mk := text.CommonMark
	items := []element{{
		Type:   "TextBlock",
		Text:   text.Truncate(v.Heading(), maxTitle),
		Weight: "Bolder",
		Color:  color(v.Status),
		Wrap:   true,
	}}
	if s := v.Text(mk); s != "" {
		items = append(items, textBlock(text.Truncate(s, maxAlertText)))
	}
	var facts []fact
	for _, f := range v.Facts() {
		facts = append(facts, fact{Title: f.Name, Value: text.Truncate(f.Value, maxFactValue)})
	}
	if len(facts) > 0 {
		items = append(items, element{Type: "FactSet", Facts: facts})
	}
	if v.Link != "" {
		items = append(items, textBlock(mk.Link(text.LinkLabel, v.Link)))
	}
	return element{Type: "Container", Separator: true, Spacing: "Medium", Items: items}
}

func textBlock(s string) element {
	return element{Type: "TextBlock", Text: s, Wrap: true}
}

func color(status string) string {
	if status == notify.StatusFiring {
		return colorFiring
	}
	return colorResolved
}
