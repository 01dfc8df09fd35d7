// Package notify is the contract between alert routing and the services
// that carry notifications to people. A Message is one notification for one
// group of alerts, shaped as Alertmanager's webhook payload (version 4) so
// every receiver renders the same facts; each service has its own package
// below (slack, discord, teams, webhook, ntfy, alertmanager) that turns a
// Message into that service's request. Delivery errors say whether a retry
// can help (Error), so the outbox retries what is worth retrying and stops
// using a receiver the service has deleted.
package notify
