package slack

import (
	"fmt"
	"regexp"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/text"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// Config is one Slack incoming webhook, with Alertmanager's slack_config
// field names.
type Config struct {
	SendResolved *bool         `yaml:"send_resolved"` // default false, as in Alertmanager
	APIURL       secret.Secret `yaml:"api_url"`
	APIURLFile   string        `yaml:"api_url_file"`
	Channel      string        `yaml:"channel"` // only for legacy webhooks that allow overriding it
	Username     string        `yaml:"username"`
	IconEmoji    string        `yaml:"icon_emoji"`
	IconURL      string        `yaml:"icon_url"`
	// Title and Text override the rendered message (Go templates over the
	// notify.Message; see package notify/text).
	Title   string        `yaml:"title"`
	Text    string        `yaml:"text"`
	Timeout time.Duration `yaml:"timeout"` // per request; default 10s
}

// Validate checks the configuration without sending anything; its errors
// never hold the webhook URL.
func (c Config) Validate() error {
	if err := notify.CheckEndpoint("api_url", c.APIURL, c.APIURLFile); err != nil {
		return err
	}
	if err := notify.CheckTimeout(c.Timeout); err != nil {
		return err
	}
	if c.IconURL != "" {
		if _, err := notify.ParseURL(c.IconURL); err != nil {
			return fmt.Errorf("icon_url: %w", err)
		}
	}
	if c.IconEmoji != "" && !emoji.MatchString(c.IconEmoji) {
		return fmt.Errorf("icon_emoji %q is not an emoji code (:name:)", c.IconEmoji)
	}
	_, _, err := c.templates()
	return err
}

var emoji = regexp.MustCompile(`^:[^:\s]+:$`)

// templates parses the title and text templates (nil when unset).
func (c Config) templates() (title, body *text.Template, err error) {
	return text.ParseTitleBody(c.Title, "text", c.Text)
}
