// Package silence keeps Alertmanager-style silences: time-bounded sets of
// label matchers that mute the alerts they match. They live in alerts.db so
// a restart does not bring back notifications someone silenced, follow
// Alertmanager's rules (pending, active and expired states; editing an
// active silence's matchers replaces it, keeping the old one as history;
// expired silences are kept five days), and are shaped as Alertmanager's
// API v2 has them so amtool and Alertmanager UIs can manage them. A small
// HTTP client serves the `gpuwd silence` commands.
package silence
