package receivers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/discord"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/ntfy"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/slack"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/teams"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/webhook"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// Receiver is a named set of endpoints, with Alertmanager's receiver field
// names. A receiver with no endpoints is valid: routing to it silences.
type Receiver struct {
	Name             string           `yaml:"name"`
	SlackConfigs     []slack.Config   `yaml:"slack_configs"`
	DiscordConfigs   []discord.Config `yaml:"discord_configs"`
	MSTeamsV2Configs []teams.Config   `yaml:"msteamsv2_configs"`
	WebhookConfigs   []webhook.Config `yaml:"webhook_configs"`
	NtfyConfigs      []ntfy.Config    `yaml:"ntfy_configs"`
}

// Options are what every integration of a receiver shares.
type Options struct {
	// HTTPClient sends every request; nil: a client of its own. Timeouts
	// come from each endpoint's configuration, not from the client.
	HTTPClient *http.Client
	// Logger gets template failures and the like; nil discards them.
	Logger *slog.Logger
}

// Validate checks every endpoint of the receiver. Errors name the receiver
// and the endpoint, e.g. receiver "gpu": slack_configs[0]: one of api_url
// and api_url_file is required; they never hold a URL or a token.
func (r Receiver) Validate() error {
	if strings.TrimSpace(r.Name) == "" {
		return errors.New("receiver: name is required")
	}
	var errs []error
	check := func(kind string, i int, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("receiver %q: %s[%d]: %w", r.Name, kind, i, err))
		}
	}
	for i, c := range r.SlackConfigs {
		check("slack_configs", i, c.Validate())
	}
	for i, c := range r.DiscordConfigs {
		check("discord_configs", i, c.Validate())
	}
	for i, c := range r.MSTeamsV2Configs {
		check("msteamsv2_configs", i, c.Validate())
	}
	for i, c := range r.WebhookConfigs {
		check("webhook_configs", i, c.Validate())
	}
	for i, c := range r.NtfyConfigs {
		check("ntfy_configs", i, c.Validate())
	}
	return errors.Join(errs...)
}

// Integrations builds the receiver's endpoints, in the order of the
// configuration: Slack, Discord, Teams, webhooks, ntfy, each named
// "<service>/<index>" ("slack/0"). send_resolved defaults to false for
// Slack and true elsewhere, as in Alertmanager.
func (r Receiver) Integrations(o Options) ([]notify.Integration, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("receiver", r.Name)
	var out []notify.Integration
	add := func(kind string, i int, n notify.Notifier, err error, sendResolved bool, conf any, secrets ...secret.Secret) error {
		if err != nil {
			return fmt.Errorf("receiver %q: %s_configs[%d]: %w", r.Name, kind, i, err)
		}
		out = append(out, notify.Integration{
			Name:         fmt.Sprintf("%s/%d", kind, i),
			Notifier:     n,
			SendResolved: sendResolved,
			ConfigHash:   configHash(kind, conf, secrets...),
		})
		return nil
	}
	log := func(kind string, i int) *slog.Logger {
		return logger.With("integration", fmt.Sprintf("%s/%d", kind, i))
	}
	for i, c := range r.SlackConfigs {
		n, err := slack.New(c, client, log("slack", i))
		c.SendResolved = resolved(c.SendResolved, false)
		if err := add("slack", i, n, err, *c.SendResolved, c, c.APIURL, fileSecret(c.APIURLFile)); err != nil {
			return nil, err
		}
	}
	for i, c := range r.DiscordConfigs {
		n, err := discord.New(c, client, log("discord", i))
		c.SendResolved = resolved(c.SendResolved, true)
		if err := add("discord", i, n, err, *c.SendResolved, c, c.WebhookURL, fileSecret(c.WebhookURLFile)); err != nil {
			return nil, err
		}
	}
	for i, c := range r.MSTeamsV2Configs {
		n, err := teams.New(c, client, log("teams", i))
		c.SendResolved = resolved(c.SendResolved, true)
		if err := add("teams", i, n, err, *c.SendResolved, c, c.WebhookURL, fileSecret(c.WebhookURLFile)); err != nil {
			return nil, err
		}
	}
	for i, c := range r.WebhookConfigs {
		n, err := webhook.New(c, client)
		secrets := []secret.Secret{c.URL, fileSecret(c.URLFile)}
		if a := c.HTTPConfig.Authorization; a != nil {
			secrets = append(secrets, a.Credentials, fileSecret(a.CredentialsFile))
		}
		c.SendResolved = resolved(c.SendResolved, true)
		if err := add("webhook", i, n, err, *c.SendResolved, c, secrets...); err != nil {
			return nil, err
		}
	}
	for i, c := range r.NtfyConfigs {
		n, err := ntfy.New(c, client, log("ntfy", i))
		c.SendResolved = resolved(c.SendResolved, true)
		if err := add("ntfy", i, n, err, *c.SendResolved, c, c.URL, fileSecret(c.URLFile), c.Token, fileSecret(c.TokenFile)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// resolved is send_resolved as set, or its default: the configuration as
// hashed says what it does, whether the default was spelled out or not.
func resolved(b *bool, def bool) *bool {
	if b != nil {
		def = *b
	}
	return &def
}

// ResolvePaths makes the endpoints' relative *_file paths relative to dir
// (the configuration file's directory), as Alertmanager does.
func (r *Receiver) ResolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for i := range r.SlackConfigs {
		abs(&r.SlackConfigs[i].APIURLFile)
	}
	for i := range r.DiscordConfigs {
		abs(&r.DiscordConfigs[i].WebhookURLFile)
	}
	for i := range r.MSTeamsV2Configs {
		abs(&r.MSTeamsV2Configs[i].WebhookURLFile)
	}
	for i := range r.WebhookConfigs {
		c := &r.WebhookConfigs[i]
		abs(&c.URLFile)
		if c.HTTPConfig.Authorization != nil {
			abs(&c.HTTPConfig.Authorization.CredentialsFile)
		}
	}
	for i := range r.NtfyConfigs {
		abs(&r.NtfyConfigs[i].URLFile)
		abs(&r.NtfyConfigs[i].TokenFile)
	}
}
