package ntfy

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/text"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// Config is one ntfy topic (ntfy.sh or a self-hosted server).
type Config struct {
	SendResolved *bool `yaml:"send_resolved"` // default true
	// URL is the server and topic: https://ntfy.sh/my-gpu-alerts.
	URL     secret.Secret `yaml:"url"`
	URLFile string        `yaml:"url_file"`
	// Token is an access token (tk_…) sent as a bearer token.
	Token     secret.Secret `yaml:"token"`
	TokenFile string        `yaml:"token_file"`
	// Priority 1–5 (or min, low, default, high, max); empty: from the
	// severity label (critical → 5, warning → 4, else 3).
	Priority string        `yaml:"priority"`
	Tags     []string      `yaml:"tags"`
	Timeout  time.Duration `yaml:"timeout"`
	// Title and Message override the rendered notification (Go templates
	// over the notify.Message; see package notify/text).
	Title   string `yaml:"title"`
	Message string `yaml:"message"`
}

// Validate checks the configuration without sending anything; its errors
// never hold the URL or the token.
func (c Config) Validate() error {
	if err := notify.CheckEndpoint("url", c.URL, c.URLFile); err != nil {
		return err
	}
	if c.URL != "" {
		u, _ := notify.ParseURL(string(c.URL))
		if _, _, err := splitTopic(u); err != nil {
			return fmt.Errorf("url: %w", err)
		}
	}
	if c.Token != "" && c.TokenFile != "" {
		return errors.New("only one of token and token_file may be set")
	}
	if c.Priority != "" {
		if _, err := parsePriority(c.Priority); err != nil {
			return err
		}
	}
	for _, t := range c.Tags {
		if strings.TrimSpace(t) == "" || strings.Contains(t, ",") {
			return fmt.Errorf("tags: %q is not a tag", t)
		}
	}
	if err := notify.CheckTimeout(c.Timeout); err != nil {
		return err
	}
	_, _, err := c.templates()
	return err
}

// templates parses the title and message templates (nil when unset).
func (c Config) templates() (title, message *text.Template, err error) {
	return text.ParseTitleBody(c.Title, "message", c.Message)
}
