package teams

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/text"
)

// Notifier posts messages to one Teams Workflows webhook.
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

// Notify sends m as one card. The webhook URL is read at each call, so a
// rotated webhook_url_file takes effect without a restart. Workflows
// answer 202 Accepted.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	u, err := notify.ReadEndpoint("webhook_url", n.conf.WebhookURL, n.conf.WebhookURLFile)
	if err != nil {
		return err
	}
	body, err := n.encode(m)
	if err != nil {
		return err
	}
	ctx, cancel := notify.WithTimeout(ctx, n.conf.Timeout)
	defer cancel()
	_, err = notify.Do(ctx, n.client, notify.Request{
		URL:         u.String(),
		ContentType: "application/json",
		Body:        body,
		OnError:     classify,
	})
	return err
}

// encode renders m with as many alerts as fit Teams' size limit.
func (n *Notifier) encode(m *notify.Message) ([]byte, error) {
	title := n.render(n.title, m, m.Title())
	var userText string
	if n.text != nil {
		userText = n.render(n.text, m, text.Body(m, text.Options{Markup: text.CommonMark, MaxLen: maxText}))
	}
	for shown := text.DefaultMaxAlerts; ; shown-- {
		body, err := notify.JSON(build(m, title, userText, shown))
		if err != nil {
			return nil, notify.Permanent("encode message: %v", err)
		}
		if len(body) <= maxPayload || shown <= 1 {
			return body, nil
		}
	}
}

// render runs a user template, falling back to def (and logging why) when
// it fails: a broken template must not lose the notification.
func (n *Notifier) render(t *text.Template, m *notify.Message, def string) string {
	s, err := text.Render(t, m, def)
	if err != nil {
		n.logger.Warn("teams: template failed; sent the default rendering", "group", m.GroupKey, "err", err)
	}
	return s
}

// classify: a 404 (WorkflowNotFound) or 410 means the workflow was
// deleted; stop using it until the configuration changes.
func classify(e *notify.Error, _ http.Header, _ []byte) {
	if e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone {
		e.Disable = true
	}
}
