// Package slack sends notifications to a Slack incoming webhook (or a
// Slack-compatible one, such as Mattermost's): one attachment per alert,
// red while firing and green once resolved, with the alert's GPU, node,
// value, Slurm job and user as fields and its title linking to the
// dashboard. Slack's error replies are classified so an archived channel or
// a revoked webhook stops deliveries instead of being retried forever.
package slack
