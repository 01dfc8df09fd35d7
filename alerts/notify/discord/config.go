package discord

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/text"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// Config is one Discord webhook, with Alertmanager's discord_config field
// names.
type Config struct {
	SendResolved   *bool         `yaml:"send_resolved"` // default true
	WebhookURL     secret.Secret `yaml:"webhook_url"`
	WebhookURLFile string        `yaml:"webhook_url_file"`
	Title          string        `yaml:"title"`
	Message        string        `yaml:"message"` // content above the embeds
	Username       string        `yaml:"username"`
	AvatarURL      string        `yaml:"avatar_url"`
	Timeout        time.Duration `yaml:"timeout"`
}

// Validate checks the configuration without sending anything; its errors
// never hold the webhook URL.
func (c Config) Validate() error {
	if err := notify.CheckEndpoint("webhook_url", c.WebhookURL, c.WebhookURLFile); err != nil {
		return err
	}
	if err := notify.CheckTimeout(c.Timeout); err != nil {
		return err
	}
	if text.Len(c.Username) > maxUsername {
		return fmt.Errorf("username: longer than %d characters", maxUsername)
	}
	if u := strings.ToLower(c.Username); strings.Contains(u, "discord") || strings.Contains(u, "clyde") {
		return errors.New(`username: Discord refuses names containing "discord" or "clyde"`)
	}
	if c.AvatarURL != "" {
		if _, err := notify.ParseURL(c.AvatarURL); err != nil {
			return fmt.Errorf("avatar_url: %w", err)
		}
	}
	_, _, err := c.templates()
	return err
}

// templates parses the title and message templates (nil when unset).
func (c Config) templates() (title, message *text.Template, err error) {
	return text.ParseTitleBody(c.Title, "message", c.Message)
}
