package slack

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/text"
)

// Notifier posts messages to one Slack incoming webhook.
type Notifier struct {
	conf        Config
	title, text *text.Template
	client      *http.Client
	logger      *slog.Logger
}

// New validates c and returns its notifier. client and logger may be nil.
func New(c Config, client *http.Client, logger *slog.Logger) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	title, body, _ := c.templates()
	client, logger = notify.OrDefaults(client, logger)
	return &Notifier{conf: c, title: title, text: body, client: client, logger: logger}, nil
}

// Notify sends m. The webhook URL is read at each call, so a rotated
// api_url_file takes effect without a restart.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	u, err := notify.ReadEndpoint("api_url", n.conf.APIURL, n.conf.APIURLFile)
	if err != nil {
		return err
	}
	body, err := notify.JSON(n.payload(m))
	if err != nil {
		return notify.Permanent("encode message: %v", err)
	}
	ctx, cancel := notify.WithTimeout(ctx, n.conf.Timeout)
	defer cancel()
	resp, err := notify.Do(ctx, n.client, notify.Request{
		URL:         u.String(),
		ContentType: "application/json",
		Body:        body,
		OnError:     classify,
	})
	if err != nil {
		return err
	}
	return replyError(resp)
}

// render runs a user template, falling back to def (and logging why) when
// it fails: a broken template must not lose the notification.
func (n *Notifier) render(t *text.Template, m *notify.Message, def string) string {
	s, err := text.Render(t, m, def)
	if err != nil {
		n.logger.Warn("slack: template failed; sent the default rendering", "group", m.GroupKey, "err", err)
	}
	return s
}

// classify applies Slack's webhook errors: a revoked webhook (404
// no_service), a deleted channel (404 channel_not_found) or an archived
// one (410 channel_is_archived) will not come back, so stop using it;
// 403 invalid_token, no_team and team_disabled neither.
func classify(e *notify.Error, _ http.Header, body []byte) {
	code := strings.TrimSpace(string(body))
	switch {
	case e.StatusCode == http.StatusGone, e.StatusCode == http.StatusNotFound:
		e.Disable = true
	case e.StatusCode == http.StatusForbidden && (code == "invalid_token" || code == "no_team" || code == "team_disabled"):
		e.Disable = true
	}
}

// errorCode is the shape of Slack's error replies: one snake_case word.
var errorCode = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// replyError reads a 2xx reply. Slack answers "ok"; compatible services
// answer other text (Rocket.Chat JSON), which is success too, unless it is
// one of Slack's error codes.
func replyError(resp *notify.Response) error {
	code := strings.TrimSpace(string(resp.Body))
	if code == "" || code == "ok" || !errorCode.MatchString(code) {
		return nil
	}
	return &notify.Error{StatusCode: resp.StatusCode, Reason: "slack refused the message: " + code}
}
