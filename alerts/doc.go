// Package alerts evaluates Prometheus rule files over the aggregator's store,
// routes the resulting alerts as Alertmanager does, and delivers them to chat
// through a durable outbox. Its parts arrive with their issue; see DESIGN.md.
package alerts
