package chattest

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// SlackMessage is an incoming-webhook payload as Slack reads it.
type SlackMessage struct {
	Text        string            `json:"text"`
	Blocks      []json.RawMessage `json:"blocks"`
	Attachments []SlackAttachment `json:"attachments"`
	Username    string            `json:"username"`
	IconEmoji   string            `json:"icon_emoji"`
	IconURL     string            `json:"icon_url"`
	Channel     string            `json:"channel"`
}

// SlackAttachment is a legacy message attachment.
type SlackAttachment struct {
	Color     string       `json:"color"`
	Title     string       `json:"title"`
	TitleLink string       `json:"title_link"`
	Pretext   string       `json:"pretext"`
	Text      string       `json:"text"`
	Fallback  string       `json:"fallback"`
	Fields    []SlackField `json:"fields"`
	Footer    string       `json:"footer"`
	Ts        json.Number  `json:"ts"`
	MrkdwnIn  []string     `json:"mrkdwn_in"`
}

// SlackField is an attachment field.
type SlackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// Slack limits: a message's attachments (more are refused) and text
// (Slack cuts longer text; refusing it here catches a notifier that does
// not).
const (
	slackMaxAttachments = 100
	slackMaxText        = 40000
)

// NewSlack starts a Slack incoming webhook: JSON (or a payload= form) with
// text, blocks or attachments is answered 200 "ok"; anything else gets
// Slack's error text (400 invalid_payload, no_text, too_many_attachments).
func NewSlack(t testing.TB) *Server[SlackMessage] {
	t.Helper()
	return newServer[SlackMessage](t, slackService{})
}

type slackService struct{}

func (slackService) accept(r *http.Request, body []byte) (SlackMessage, *Reply) {
	var m SlackMessage
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return m, slackError(http.StatusBadRequest, "invalid_payload")
		}
		body = []byte(form.Get("payload"))
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, slackError(http.StatusBadRequest, "invalid_payload")
	}
	if strings.TrimSpace(m.Text) == "" && len(m.Blocks) == 0 && len(m.Attachments) == 0 {
		return m, slackError(http.StatusBadRequest, "no_text")
	}
	if len(m.Attachments) > slackMaxAttachments {
		return m, slackError(http.StatusBadRequest, "too_many_attachments")
	}
	if len([]rune(m.Text)) > slackMaxText {
		return m, slackError(http.StatusBadRequest, "invalid_payload")
	}
	for _, a := range m.Attachments {
		if a.Text == "" && a.Fallback == "" && a.Title == "" && len(a.Fields) == 0 {
			return m, slackError(http.StatusBadRequest, "invalid_attachments")
		}
	}
	return m, nil
}

func (slackService) success() Reply {
	return Reply{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/html"}}, Body: "ok"}
}

func (slackService) failure(f Failure) Reply {
	r := *slackError(f.Status, slackErrorText(f.Status))
	r.Header = failureHeader(f)
	r.Header.Set("Content-Type", "text/html")
	if f.Body != "" {
		r.Body = f.Body
	}
	return r
}

func (slackService) gone() Reply { return *slackError(http.StatusNotFound, "no_service") }

func slackError(status int, text string) *Reply {
	return &Reply{Status: status, Header: http.Header{"Content-Type": {"text/html"}}, Body: text}
}

// slackErrorText is what Slack answers with a status (api.slack.com,
// "Changes to errors for incoming webhooks").
func slackErrorText(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_payload"
	case http.StatusForbidden:
		return "action_prohibited"
	case http.StatusNotFound:
		return "channel_not_found"
	case http.StatusGone:
		return "channel_is_archived"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusInternalServerError:
		return "rollup_error"
	}
	return strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
}
