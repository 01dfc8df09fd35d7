package teams

import (
	"time"

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
