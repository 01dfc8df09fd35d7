// Package outbox delivers notifications durably, so that a chat outage of
// an hour, or an aggregator restart (even kill -9) in the middle of one,
// loses no notification and sends none twice once it recovers. The
// dispatcher hands each notification to Enqueue, which returns only once it
// and one delivery per integration of its receiver are committed to
// alerts.db; a worker per integration then sends its queue in enqueue order,
// rate-limited, backing off (and honouring Retry-After) while the service
// fails, and writes the outcome back after every attempt. The same tables
// are the notification log: Last answers the dispatcher's "what did this
// group last say" across restarts, and Log and Integrations show what was
// sent, what failed and why.
package outbox
