// Package alertmanager forwards alerts to existing Alertmanagers the way
// Prometheus does, for sites that keep their routing, silences and
// receivers there: every active alert is POSTed to <url>/api/v2/alerts and
// re-sent while it fires, so the Alertmanager never times it out. Unlike the
// chat notifiers it works on alerts, not notifications: a Forwarder queues
// them in memory (bounded, oldest dropped), sends batches to every
// Alertmanager at once and retries what a retry can fix.
package alertmanager
