// Package rules evaluates Prometheus rule files over the aggregator's
// history. It is our own small copy of prometheus/rules' semantics
// (inactive → pending → firing → resolved, for, keep_firing_for, the
// ALERTS and ALERTS_FOR_STATE series, recording rules, staleness), because
// importing that package pulls the notifier and every cloud SDK with it.
// Unlike Prometheus, alert state is kept in SQLite after each evaluation,
// so a restart neither re-pends a firing alert nor resets its start time.
package rules
