// Package alertdb opens alerts.db, the SQLite file that keeps what alerting
// must not forget across restarts: alert state, silences, the outbox of
// notifications with their delivery log, and alert history. It is a file of
// its own, beside the metrics store, so a burst of samples never queues
// behind a notification's write and the reverse. Each package that keeps
// data here creates its own tables (CREATE TABLE IF NOT EXISTS) on the DB.
package alertdb
