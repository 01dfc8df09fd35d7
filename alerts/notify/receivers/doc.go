// Package receivers turns a receiver's configuration (Alertmanager's
// receiver block: slack_configs, discord_configs, msteamsv2_configs,
// webhook_configs, ntfy_configs) into the integrations the outbox delivers
// to, each named, with its send_resolved default and a hash of its resolved
// configuration, so an endpoint a service disabled is tried again once its
// configuration (or its rotated secret) changes.
package receivers
