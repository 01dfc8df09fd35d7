package ntfy

import (
	"time"

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
}
