package receivers

import (
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/discord"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/ntfy"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/slack"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/teams"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/webhook"
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
