package alertmanager

import (
	"errors"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
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

// Validate checks the configuration without sending anything; its errors
// never hold the URL or the credentials.
func (c Config) Validate() error {
	if err := notify.CheckEndpoint("url", c.URL, c.URLFile); err != nil {
		return err
	}
	if err := notify.CheckTimeout(c.Timeout); err != nil {
		return err
	}
	if a := c.Authorization; a != nil {
		if err := notify.CheckAuthorization(a.Type, a.Credentials, a.CredentialsFile); err != nil {
			return errors.New("authorization: " + err.Error())
		}
	}
	return nil
}
