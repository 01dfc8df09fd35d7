// Package text renders notifications for people: which GPU on which node,
// the value, the Slurm job and user, severity, since when and the dashboard
// link, read once from an alert's labels and annotations (Alert) and laid out
// in each chat service's markup (Body). Slack, Discord, Teams and ntfy all
// render through it, so a message says the same things everywhere. Users may
// replace the default with Go templates over the notify.Message (Parse,
// Render); a template that fails at send time falls back to the default, so
// a broken template never loses a notification.
package text
