package alertmanager

import (
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// Config is one existing Alertmanager that gets every alert, as Prometheus'
// alerting.alertmanagers sends them (POST /api/v2/alerts, re-sent while
// active so the Alertmanager never times them out).
type Config struct {
	// URL is the Alertmanager's base URL: http://am:9093 (a path prefix
	// is kept: http://host/am).
	URL     secret.Secret `yaml:"url"`
	URLFile string        `yaml:"url_file"`
	Timeout time.Duration `yaml:"timeout"` // default 10s
	// Authorization: "Authorization: <type> <credentials>".
	Authorization *Authorization `yaml:"authorization"`
}

// Authorization sends "Authorization: <type> <credentials>".
type Authorization struct {
	Type            string        `yaml:"type"` // default Bearer
	Credentials     secret.Secret `yaml:"credentials"`
	CredentialsFile string        `yaml:"credentials_file"`
}
