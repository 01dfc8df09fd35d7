// Package ntfy publishes notifications to an ntfy topic (ntfy.sh or a
// self-hosted server), which pushes them to phones and desktops without a
// chat workspace. Messages use ntfy's JSON publishing: the alerts in
// Markdown, a click-through to the dashboard, and a priority that follows
// the alerts' severity (critical alerts ring through do-not-disturb on
// phones set up for it; resolutions arrive quietly).
package ntfy
