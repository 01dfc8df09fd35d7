package discord

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/text"
)

// Notifier posts messages to one Discord webhook.
type Notifier struct {
	conf           Config
	title, message *text.Template
	client         *http.Client
	logger         *slog.Logger

	mu sync.Mutex
	// until is when the webhook's rate-limit bucket refills, once Discord
	// said it is empty (X-RateLimit-Remaining: 0, or a 429): sending
	// before would only earn a 429, and many 429s get the address banned.
	until time.Time
}

// New validates c and returns its notifier. client and logger may be nil.
func New(c Config, client *http.Client, logger *slog.Logger) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	title, message, _ := c.templates()
	client, logger = notify.OrDefaults(client, logger)
	return &Notifier{conf: c, title: title, message: message, client: client, logger: logger}, nil
}

// Notify sends m as one message. The webhook URL is read at each call, so
// a rotated webhook_url_file takes effect without a restart. Without
// ?wait=true Discord answers 204 and no message object, which is all we
// need.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	u, err := notify.ReadEndpoint("webhook_url", n.conf.WebhookURL, n.conf.WebhookURLFile)
	if err != nil {
		return err
	}
	body, err := notify.JSON(n.build(m))
	if err != nil {
		return notify.Permanent("encode message: %v", err)
	}
	ctx, cancel := notify.WithTimeout(ctx, n.conf.Timeout)
	defer cancel()
	if err := n.waitBucket(ctx); err != nil {
		return err
	}
	resp, err := notify.Do(ctx, n.client, notify.Request{
		URL:         u.String(),
		ContentType: "application/json",
		Body:        body,
		OnError:     classify,
	})
	if err != nil {
		if e := notify.Classify(err); e.StatusCode == http.StatusTooManyRequests {
			n.setBucket(e.RetryAfter)
		}
		return err
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		n.setBucket(seconds(resp.Header.Get("X-RateLimit-Reset-After")))
	}
	return nil
}

// waitBucket waits for the rate-limit bucket to refill, or says when to
// retry when that is past ctx's deadline.
func (n *Notifier) waitBucket(ctx context.Context) error {
	n.mu.Lock()
	wait := time.Until(n.until)
	n.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return &notify.Error{Retry: true, RetryAfter: wait, Reason: "rate limited by Discord: bucket empty"}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return notify.Retryable("waiting for Discord's rate limit: %v", ctx.Err())
	}
}

func (n *Notifier) setBucket(d time.Duration) {
	if d <= 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if t := time.Now().Add(d); t.After(n.until) {
		n.until = t
	}
}

// render runs a user template, falling back to def (and logging why) when
// it fails: a broken template must not lose the notification.
func (n *Notifier) render(t *text.Template, m *notify.Message, def string) string {
	s, err := text.Render(t, m, def)
	if err != nil {
		n.logger.Warn("discord: template failed; sent the default rendering", "group", m.GroupKey, "err", err)
	}
	return strings.TrimSpace(s)
}

// classify applies Discord's rules: a 404 (Unknown Webhook) means the
// webhook was deleted, and Discord asks clients to stop using it; a 401
// (Invalid Webhook Token) will not heal either, and repeated 401s count
// toward Cloudflare's ban of the address. On a 429 the body's retry_after
// (float seconds) and the Retry-After header are both read; the larger
// wins.
func classify(e *notify.Error, _ http.Header, body []byte) {
	switch e.StatusCode {
	case http.StatusNotFound, http.StatusUnauthorized:
		e.Disable = true
	case http.StatusTooManyRequests:
		var rl struct {
			RetryAfter float64 `json:"retry_after"`
			Global     bool    `json:"global"`
		}
		if json.Unmarshal(body, &rl) == nil && rl.RetryAfter > 0 {
			if d := time.Duration(rl.RetryAfter * float64(time.Second)); d > e.RetryAfter {
				e.RetryAfter = d
			}
		}
		if rl.Global {
			e.Reason += " (global rate limit)"
		}
	}
}

func seconds(s string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}
