package discord

import (
	"slices"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/text"
)

// Discord's limits (discord-api-docs resources/message.md), in characters.
// Passing any of them gets the whole message refused.
const (
	maxContent     = 2000
	maxEmbeds      = 10
	maxTitle       = 256
	maxDescription = 4096
	maxFields      = 25
	maxFieldName   = 256
	maxFieldValue  = 1024
	maxFooter      = 2048
	maxEmbedTotal  = 6000 // title, description, fields, footer of all embeds
	maxUsername    = 80
)

// Embed colours, as Alertmanager's Discord notifier has them.
const (
	colorFiring   = 0x992D22
	colorResolved = 0x2ECC71
	colorMore     = 0x95A5A6
)

const footerText = "gpu-watchdog"

// webhook is an execute-webhook request.
type webhook struct {
	Content   string  `json:"content,omitempty"`
	Username  string  `json:"username,omitempty"`
	AvatarURL string  `json:"avatar_url,omitempty"`
	Embeds    []embed `json:"embeds,omitempty"`
	// AllowedMentions is empty for the default rendering, so an
	// "@everyone" that reached a label pings nobody; a user's message
	// template may mention whom it means to (left out: Discord's default).
	AllowedMentions *allowedMentions `json:"allowed_mentions,omitempty"`
}

type allowedMentions struct {
	Parse []string `json:"parse"`
}

type embed struct {
	Title       string  `json:"title,omitempty"`
	Description string  `json:"description,omitempty"`
	URL         string  `json:"url,omitempty"`
	Color       int     `json:"color"`
	Fields      []field `json:"fields,omitempty"`
	Footer      *footer `json:"footer,omitempty"`
	Timestamp   string  `json:"timestamp,omitempty"`
}

type field struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type footer struct {
	Text string `json:"text"`
}

// size is what the embed counts toward maxEmbedTotal.
func (e *embed) size() int {
	n := text.Len(e.Title) + text.Len(e.Description)
	for _, f := range e.Fields {
		n += text.Len(f.Name) + text.Len(f.Value)
	}
	if e.Footer != nil {
		n += text.Len(e.Footer.Text)
	}
	return n
}

// shrink cuts the embed to at most target characters: the description
// first, then fields from the last (the first are the key facts), then the
// footer and the title.
func (e *embed) shrink(target int) {
	over := e.size() - target
	if over <= 0 {
		return
	}
	if d := text.Len(e.Description); d > 0 {
		keep := max(0, d-over)
		e.Description = text.Truncate(e.Description, keep)
		over -= d - text.Len(e.Description)
	}
	for over > 0 && len(e.Fields) > 0 {
		f := e.Fields[len(e.Fields)-1]
		e.Fields = e.Fields[:len(e.Fields)-1]
		over -= text.Len(f.Name) + text.Len(f.Value)
	}
	if over > 0 && e.Footer != nil {
		over -= text.Len(e.Footer.Text)
		e.Footer = nil
	}
	if over > 0 {
		e.Title = text.Truncate(e.Title, max(0, text.Len(e.Title)-over))
	}
}

// fit shares maxEmbedTotal among the embeds: the small ones keep all they
// have, the large ones are cut to an equal share of what is left.
func fit(embeds []embed) {
	order := make([]int, len(embeds))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return embeds[a].size() - embeds[b].size() })
	left := maxEmbedTotal
	for k, i := range order {
		share := left / (len(order) - k)
		embeds[i].shrink(share)
		left -= embeds[i].size()
	}
}

// build lays m out as Discord allows: the title (and the user's message)
// as content, an embed per alert, and when there are more alerts than
// embeds, a last embed that lists the rest.
func (n *Notifier) build(m *notify.Message) webhook {
	content := n.render(n.title, m, m.Title())
	if n.message != nil {
		content += "\n" + n.render(n.message, m, "")
	}
	w := webhook{
		Content:   text.Truncate(content, maxContent),
		Username:  n.conf.Username,
		AvatarURL: n.conf.AvatarURL,
	}
	if n.message == nil {
		w.AllowedMentions = &allowedMentions{Parse: []string{}}
	}
	shown := m.Alerts
	if len(m.Alerts)+m.TruncatedAlerts > maxEmbeds {
		shown = m.Alerts[:min(len(m.Alerts), maxEmbeds-1)]
	}
	for _, a := range shown {
		w.Embeds = append(w.Embeds, alertEmbed(text.NewAlert(m, a)))
	}
	if rest := m.Alerts[len(shown):]; len(rest)+m.TruncatedAlerts > 0 {
		w.Embeds = append(w.Embeds, moreEmbed(m, rest, m.TruncatedAlerts))
	}
	fit(w.Embeds)
	return w
}

func alertEmbed(v text.Alert) embed {
	mk := text.DiscordMarkdown
	e := embed{
		Title:       text.Truncate(mk.Escape(v.Heading()), maxTitle),
		Description: text.Truncate(v.Text(mk), maxDescription),
		URL:         v.Link,
		Color:       colorFiring,
		Footer:      &footer{Text: footerText},
		Timestamp:   timestamp(v.StartsAt),
	}
	if v.Resolved() {
		e.Color = colorResolved
		if !v.EndsAt.IsZero() {
			e.Timestamp = timestamp(v.EndsAt)
		}
	}
	for _, f := range v.Facts() {
		if len(e.Fields) == maxFields {
			break
		}
		e.Fields = append(e.Fields, field{
			Name:   text.Truncate(f.Name, maxFieldName),
			Value:  text.Truncate(mk.Escape(f.Value), maxFieldValue),
			Inline: f.Name != "GPU",
		})
	}
	return e
}

// moreEmbed lists the alerts left out, one line each, as far as room goes.
func moreEmbed(m *notify.Message, rest []notify.Alert, truncated int) embed {
	mk := text.DiscordMarkdown
	lines := make([]string, 0, len(rest))
	for _, a := range rest {
		lines = append(lines, "• "+mk.Escape(text.NewAlert(m, a).Heading()))
	}
	return embed{
		Title:       text.More(len(rest)+truncated, "", text.Plain),
		Description: text.Truncate(strings.Join(lines, "\n"), maxDescription),
		URL:         text.GroupLink(m),
		Color:       colorMore,
	}
}

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
