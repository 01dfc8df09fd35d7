package alertmanager

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

// PostableAlert is one alert as Alertmanager's API v2 takes it. Labels are
// its identity; EndsAt in the past resolves it, EndsAt in the future is
// when Alertmanager resolves it unless it is sent again.
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Client posts alerts to one Alertmanager.
type Client struct {
	conf   Config
	client *http.Client
	name   string
}

// NewClient validates c and returns its client. client may be nil. With
// url_file, the file is read now for the client's name and again at each
// send.
func NewClient(c Config, client *http.Client) (*Client, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	u, err := notify.ReadEndpoint("url", c.URL, c.URLFile)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{}
	}
	return &Client{conf: c, client: client, name: u.Scheme + "://" + u.Host}, nil
}

// Name is the Alertmanager's scheme and host (http://am:9093), safe for
// logs and metric labels: no path, user or token.
func (c *Client) Name() string { return c.name }

// Send posts alerts in one request, bounded by the configured timeout. Its
// errors are *notify.Error: Retry for 429, 5xx and network errors.
func (c *Client) Send(ctx context.Context, alerts []PostableAlert) error {
	u, err := notify.ReadEndpoint("url", c.conf.URL, c.conf.URLFile)
	if err != nil {
		return err
	}
	h := http.Header{}
	if a := c.conf.Authorization; a != nil {
		v, err := notify.AuthorizationHeader(a.Type, a.Credentials, a.CredentialsFile)
		if err != nil {
			return err
		}
		h.Set("Authorization", v)
	}
	body, err := notify.JSON(alerts)
	if err != nil {
		return notify.Permanent("encode alerts: %v", err)
	}
	ctx, cancel := notify.WithTimeout(ctx, c.conf.Timeout)
	defer cancel()
	_, err = notify.Do(ctx, c.client, notify.Request{
		URL:         alertsURL(u),
		ContentType: "application/json",
		Body:        body,
		Header:      h,
	})
	if err != nil {
		return fmt.Errorf("alertmanager %s: %w", c.name, err)
	}
	return nil
}

// alertsURL is the API endpoint under u, keeping u's path prefix
// (http://host/am → http://host/am/api/v2/alerts).
func alertsURL(u *url.URL) string {
	return u.JoinPath("api", "v2", "alerts").String()
}
