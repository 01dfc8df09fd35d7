// Package alerts is the dashboard's Alerts page: what fires and what is
// pending, every rule with its state, last evaluation and error, the
// silences, and the notification log with each endpoint's delivery status,
// so "did the team hear of it?" has an answer on one page.
package alerts
