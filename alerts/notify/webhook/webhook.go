package webhook

import (
	"context"
	"net/http"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

// Notifier posts messages to one webhook.
type Notifier struct {
	conf   Config
	client *http.Client
}

// New validates c and returns its notifier. client may be nil.
func New(c Config, client *http.Client) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{}
	}
	return &Notifier{conf: c, client: client}, nil
}

// Notify posts m as JSON. The URL and the credentials are read at each
// call, so rotated files take effect without a restart.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	u, err := notify.ReadEndpoint("url", n.conf.URL, n.conf.URLFile)
	if err != nil {
		return err
	}
	h := http.Header{}
	if a := n.conf.HTTPConfig.Authorization; a != nil {
		v, err := notify.AuthorizationHeader(a.Type, a.Credentials, a.CredentialsFile)
		if err != nil {
			return err
		}
		h.Set("Authorization", v)
	}
	body, err := notify.JSON(Truncate(m, n.conf.MaxAlerts))
	if err != nil {
		return notify.Permanent("encode message: %v", err)
	}
	ctx, cancel := notify.WithTimeout(ctx, n.conf.Timeout)
	defer cancel()
	_, err = notify.Do(ctx, n.client, notify.Request{
		URL:         u.String(),
		ContentType: "application/json",
		Body:        body,
		Header:      h,
	})
	return err
}

// Truncate is m with at most maxAlerts alerts (0: all), the rest counted in
// TruncatedAlerts, as Alertmanager's max_alerts does. m is not changed.
func Truncate(m *notify.Message, maxAlerts int) *notify.Message {
	if maxAlerts <= 0 || len(m.Alerts) <= maxAlerts {
		return m
	}
	t := *m
	t.Alerts = m.Alerts[:maxAlerts:maxAlerts]
	t.TruncatedAlerts = m.TruncatedAlerts + len(m.Alerts) - maxAlerts
	return &t
}
