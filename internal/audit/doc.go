// Package audit records who changed what through the dashboard or the
// API: every silence, rule edit, reload, login and (later) provisioning
// action, with the address it came from and how it ended. Entries live in
// SQLite beside the alert state, so they survive restarts, and are written
// before the action runs: an action whose entry cannot be written is
// refused, so nothing changes unrecorded.
package audit
