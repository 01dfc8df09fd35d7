package text

import (
	"strings"
	"unicode/utf8"
)

// Markup is a chat service's text format.
type Markup int

const (
	// Plain is text without markup: notification previews and fallbacks.
	Plain Markup = iota
	// SlackMrkdwn is Slack's mrkdwn: *bold*, <url|text>, and &, <, >
	// escaped as entities.
	SlackMrkdwn
	// DiscordMarkdown is Discord's Markdown: **bold**, [text](url), a
	// newline breaks the line.
	DiscordMarkdown
	// CommonMark is the Markdown of Teams' Adaptive Cards and ntfy:
	// paragraphs need a blank line between them.
	CommonMark
)

var (
	slackEscaper    = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	markdownEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`, "[", `\[`, "]", `\]`, "#", `\#`, ">", `\>`)
)

// Escape makes s show as it is. In Markdown only label values are escaped
// (a node named gpu_node_1 must not turn italic); annotations are the rule
// author's text and may use Markdown on purpose, so they go through Text.
func (mk Markup) Escape(s string) string {
	switch mk {
	case SlackMrkdwn:
		return slackEscaper.Replace(s)
	case DiscordMarkdown:
		return markdownEscaper.Replace(s)
	}
	return s
}

// Text prepares an author's text (summary, description): Slack needs its
// three entities escaped; Markdown services take it as written.
func (mk Markup) Text(s string) string {
	if mk == SlackMrkdwn {
		return slackEscaper.Replace(s)
	}
	return s
}

// Bold is s escaped, in bold.
func (mk Markup) Bold(s string) string {
	switch mk {
	case SlackMrkdwn:
		return "*" + mk.Escape(s) + "*"
	case DiscordMarkdown, CommonMark:
		return "**" + mk.Escape(s) + "**"
	}
	return s
}

// Link is label linking to url; just label when url is empty.
func (mk Markup) Link(label, url string) string {
	if url == "" {
		return mk.Escape(label)
	}
	switch mk {
	case SlackMrkdwn:
		return "<" + url + "|" + mk.Escape(label) + ">"
	case DiscordMarkdown, CommonMark:
		return "[" + mk.Escape(label) + "](" + strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(url) + ")"
	}
	return label + ": " + url
}

// Paragraphs joins blocks of text so each starts on its own line.
func (mk Markup) Paragraphs(blocks ...string) string {
	sep := "\n"
	if mk == CommonMark {
		sep = "\n\n"
	}
	var kept []string
	for _, b := range blocks {
		if b != "" {
			kept = append(kept, b)
		}
	}
	return strings.Join(kept, sep)
}

// Truncate shortens s to at most n runes, ending it with "…" when cut.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// TruncateBytes shortens s to at most n bytes of valid UTF-8, ending it
// with "…" when cut (for services that count bytes).
func TruncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	if n < len(ell) {
		return ""
	}
	cut := n - len(ell)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}

// Len counts runes, as Discord and Slack count characters.
func Len(s string) int { return utf8.RuneCountInString(s) }
