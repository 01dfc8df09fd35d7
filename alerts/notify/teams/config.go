package teams

import (
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/text"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// Config is one Microsoft Teams Workflows webhook (an Adaptive Card), with
// Alertmanager's msteamsv2_config field names.
type Config struct {
	SendResolved   *bool         `yaml:"send_resolved"` // default true
	WebhookURL     secret.Secret `yaml:"webhook_url"`
	WebhookURLFile string        `yaml:"webhook_url_file"`
	Title          string        `yaml:"title"`
	Text           string        `yaml:"text"`
	Timeout        time.Duration `yaml:"timeout"`
}

// Validate checks the configuration without sending anything; its errors
// never hold the webhook URL (its sig= parameter is the credential).
func (c Config) Validate() error {
	if err := notify.CheckEndpoint("webhook_url", c.WebhookURL, c.WebhookURLFile); err != nil {
		return err
	}
	if err := notify.CheckTimeout(c.Timeout); err != nil {
		return err
	}
	_, _, err := c.templates()
	return err
}

// templates parses the title and text templates (nil when unset).
func (c Config) templates() (title, body *text.Template, err error) {
	return text.ParseTitleBody(c.Title, "text", c.Text)
}
