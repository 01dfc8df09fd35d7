package slack

import (
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/text"
)

// Slack's colours for attachments, as Alertmanager's default template has
// them, and grey for the summary of alerts left out.
const (
	colorFiring   = "danger"
	colorResolved = "good"
	colorMore     = "#95A5A6"
)

// Sizes kept well inside Slack's limits (40,000 characters of text, 100
// attachments), so a message stays readable.
const (
	maxAlerts     = text.DefaultMaxAlerts
	maxTitle      = 250
	maxText       = 3000
	maxFieldValue = 300
	footer        = "gpu-watchdog"
)

// payload is an incoming webhook's JSON.
type payload struct {
	Text        string       `json:"text"`
	Attachments []attachment `json:"attachments,omitempty"`
	Username    string       `json:"username,omitempty"`
	IconEmoji   string       `json:"icon_emoji,omitempty"`
	IconURL     string       `json:"icon_url,omitempty"`
	Channel     string       `json:"channel,omitempty"`
}

type attachment struct {
	Color     string   `json:"color,omitempty"`
	Title     string   `json:"title,omitempty"`
	TitleLink string   `json:"title_link,omitempty"`
	Text      string   `json:"text,omitempty"`
	Fallback  string   `json:"fallback"`
	Fields    []field  `json:"fields,omitempty"`
	Footer    string   `json:"footer,omitempty"`
	Ts        int64    `json:"ts,omitempty"`
	MrkdwnIn  []string `json:"mrkdwn_in,omitempty"`
}

type field struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

func (n *Notifier) payload(m *notify.Message) payload {
	mk := text.SlackMrkdwn
	// A user's template writes mrkdwn as it means to; the default is
	// escaped.
	title := text.Truncate(n.render(n.title, m, mk.Escape(m.Title())), maxTitle)
	p := payload{
		Text:      title,
		Username:  n.conf.Username,
		IconEmoji: n.conf.IconEmoji,
		IconURL:   n.conf.IconURL,
		Channel:   n.conf.Channel,
	}
	if n.text != nil {
		// A user's text replaces the per-alert attachments, as
		// Alertmanager's single attachment does.
		body := n.render(n.text, m, text.Body(m, text.Options{Markup: mk, MaxLen: maxText}))
		p.Attachments = []attachment{{
			Color:     color(m.Status),
			Title:     title,
			TitleLink: text.GroupLink(m),
			Text:      text.Truncate(body, maxText),
			Fallback:  title,
			Footer:    footer,
			MrkdwnIn:  []string{"text"},
		}}
		return p
	}
	for i, a := range m.Alerts {
		if i == maxAlerts {
			break
		}
		p.Attachments = append(p.Attachments, alertAttachment(text.NewAlert(m, a)))
	}
	if more := len(m.Alerts) - len(p.Attachments) + m.TruncatedAlerts; more > 0 {
		s := text.More(more, text.GroupLink(m), mk)
		p.Attachments = append(p.Attachments, attachment{Color: colorMore, Text: s, Fallback: text.More(more, "", text.Plain), MrkdwnIn: []string{"text"}})
	}
	return p
}

func alertAttachment(v text.Alert) attachment {
	mk := text.SlackMrkdwn
	heading := text.Truncate(v.Heading(), maxTitle)
	a := attachment{
		Color:     color(v.Status),
		Title:     mk.Escape(heading),
		TitleLink: v.Link,
		Text:      text.Truncate(v.Text(mk), maxText),
		Fallback:  text.Truncate(text.Plain.Paragraphs(heading, v.Summary), maxText),
		Footer:    footer,
		MrkdwnIn:  []string{"text"},
	}
	for _, f := range v.Facts() {
		a.Fields = append(a.Fields, field{
			Title: f.Name,
			Value: mk.Escape(text.Truncate(f.Value, maxFieldValue)),
			Short: f.Name != "GPU",
		})
	}
	t := v.StartsAt
	if v.Resolved() && !v.EndsAt.IsZero() {
		t = v.EndsAt
	}
	if !t.IsZero() {
		a.Ts = t.Unix()
	}
	return a
}

func color(status string) string {
	if status == notify.StatusFiring {
		return colorFiring
	}
	return colorResolved
}
