package ntfy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/text"
)

// ntfy's default message limit is 4096 bytes; longer messages become
// attachments or are refused. The body is laid out in maxMessage
// characters (some take 2–3 bytes), then cut to the byte limit. Titles
// have no documented limit; long ones are useless on a phone.
const (
	maxMessageBytes = 4000
	maxMessage      = 3200
	maxTitle        = 250
)

// Tags (emoji shortcodes) for the message's status.
const (
	tagFiring   = "rotating_light"
	tagResolved = "white_check_mark"
)

// publish is ntfy's JSON publishing body.
type publish struct {
	Topic    string   `json:"topic"`
	Title    string   `json:"title,omitempty"`
	Message  string   `json:"message"`
	Priority int      `json:"priority,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	Click    string   `json:"click,omitempty"`
	Markdown bool     `json:"markdown"`
}

// Notifier publishes messages to one ntfy topic.
type Notifier struct {
	conf           Config
	title, message *text.Template
	priority       int // configured; 0: from severity
	client         *http.Client
	logger         *slog.Logger
}

// New validates c and returns its notifier. client and logger may be nil.
func New(c Config, client *http.Client, logger *slog.Logger) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	title, message, _ := c.templates()
	n := &Notifier{conf: c, title: title, message: message, client: client, logger: logger}
	if c.Priority != "" {
		n.priority, _ = parsePriority(c.Priority)
	}
	if n.client == nil {
		n.client = &http.Client{}
	}
	if n.logger == nil {
		n.logger = slog.New(slog.DiscardHandler)
	}
	return n, nil
}

// Notify publishes m. The URL and token are read at each call, so rotated
// files take effect without a restart.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	u, err := notify.ReadEndpoint("url", n.conf.URL, n.conf.URLFile)
	if err != nil {
		return err
	}
	server, topic, err := splitTopic(u)
	if err != nil {
		return notify.Permanent("url: %v", err)
	}
	h := http.Header{}
	tok, err := notify.ReadSecret("token", n.conf.Token, n.conf.TokenFile)
	if err != nil {
		return err
	}
	if tok != "" {
		h.Set("Authorization", "Bearer "+string(tok))
	}
	body, err := notify.JSON(n.publish(m, topic))
	if err != nil {
		return notify.Permanent("encode message: %v", err)
	}
	ctx, cancel := notify.WithTimeout(ctx, n.conf.Timeout)
	defer cancel()
	_, err = notify.Do(ctx, n.client, notify.Request{URL: server, ContentType: "application/json", Body: body, Header: h})
	return err
}

func (n *Notifier) publish(m *notify.Message, topic string) publish {
	def := text.Body(m, text.Options{Markup: text.CommonMark, MaxLen: maxMessage})
	p := publish{
		Topic:    topic,
		Title:    text.Truncate(n.render(n.title, m, m.Title()), maxTitle),
		Message:  text.TruncateBytes(n.render(n.message, m, def), maxMessageBytes),
		Priority: n.priorityOf(m),
		Tags:     append([]string{tagFiring}, n.conf.Tags...),
		Click:    text.GroupLink(m),
		Markdown: true,
	}
	if m.Status == notify.StatusResolved {
		p.Tags[0] = tagResolved
	}
	return p
}

// priorityOf is the configured priority, else the highest severity's
// among the firing alerts; a resolution is low priority (2) whatever the
// configuration says, unless it says lower.
func (n *Notifier) priorityOf(m *notify.Message) int {
	if m.Status == notify.StatusResolved {
		if n.priority != 0 && n.priority < 2 {
			return n.priority
		}
		return 2
	}
	if n.priority != 0 {
		return n.priority
	}
	p := 3
	for _, a := range m.Firing() {
		switch a.Labels["severity"] {
		case "critical", "page":
			p = max(p, 5)
		case "warning":
			p = max(p, 4)
		}
	}
	return p
}

func (n *Notifier) render(t *text.Template, m *notify.Message, def string) string {
	s, err := text.Render(t, m, def)
	if err != nil {
		n.logger.Warn("ntfy: template failed; sent the default rendering", "group", m.GroupKey, "err", err)
	}
	return s
}

var topicName = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

// splitTopic splits https://host/prefix/topic into the server URL that
// takes JSON publishes (https://host/prefix/) and the topic.
func splitTopic(u *url.URL) (server, topic string, err error) {
	path := strings.TrimSuffix(u.Path, "/")
	i := strings.LastIndexByte(path, '/')
	topic = path[i+1:]
	if !topicName.MatchString(topic) {
		return "", "", errors.New("the URL's path must end in a topic (letters, digits, - and _, at most 64)")
	}
	s := *u
	s.Path = path[:i+1]
	s.RawPath = ""
	return s.String(), topic, nil
}

// parsePriority reads 1–5 or ntfy's names for them.
func parsePriority(s string) (int, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "min":
		return 1, nil
	case "low":
		return 2, nil
	case "default":
		return 3, nil
	case "high":
		return 4, nil
	case "max", "urgent":
		return 5, nil
	}
	p, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || p < 1 || p > 5 {
		return 0, fmt.Errorf("priority %q: want 1 to 5, min, low, default, high or max", s)
	}
	return p, nil
}
