// Package route reads the alerting configuration, a subset of
// Alertmanager's alertmanager.yml (global.resolve_timeout, route,
// receivers, inhibit_rules), and builds its routing tree. gpuwd embeds
// Alertmanager's routing instead of running one, so people who know
// Alertmanager must find the same file format, the same defaults and
// inheritance, the same depth-first matching with `continue`, and the same
// route and group keys; what gpuwd does not implement (time intervals,
// templates, other integrations) is refused with a clear error rather than
// ignored.
package route
