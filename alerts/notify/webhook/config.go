package webhook

import (
	"errors"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// Config is one generic webhook receiving Alertmanager's version 4 JSON,
// with Alertmanager's webhook_config field names.
type Config struct {
	SendResolved *bool         `yaml:"send_resolved"` // default true
	URL          secret.Secret `yaml:"url"`
	URLFile      string        `yaml:"url_file"`
	// MaxAlerts caps the alerts in one message (0: all); the rest are
	// counted in truncatedAlerts.
	MaxAlerts  int           `yaml:"max_alerts"`
	Timeout    time.Duration `yaml:"timeout"`
	HTTPConfig HTTPConfig    `yaml:"http_config"`
}

// HTTPConfig is the part of Prometheus' http_config a webhook needs.
type HTTPConfig struct {
	Authorization *Authorization `yaml:"authorization"`
}

// Authorization sends "Authorization: <type> <credentials>".
type Authorization struct {
	Type            string        `yaml:"type"` // default Bearer
	Credentials     secret.Secret `yaml:"credentials"`
	CredentialsFile string        `yaml:"credentials_file"`
}

// Validate checks the configuration without sending anything; its errors
// never hold the URL or the credentials.
func (c Config) Validate() error {
	if err := notify.CheckEndpoint("url", c.URL, c.URLFile); err != nil {
		return err
	}
	if c.MaxAlerts < 0 {
		return errors.New("max_alerts must not be negative")
	}
	if err := notify.CheckTimeout(c.Timeout); err != nil {
		return err
	}
	if a := c.HTTPConfig.Authorization; a != nil {
		if err := notify.CheckAuthorization(a.Type, a.Credentials, a.CredentialsFile); err != nil {
			return errors.New("http_config: " + err.Error())
		}
	}
	return nil
}
