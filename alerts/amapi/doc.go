// Package amapi serves the part of Alertmanager's HTTP API v2 that tools
// use to look at alerts and manage silences (amtool, Grafana's and karma's
// Alertmanager data sources): alerts and alert groups from the dispatcher,
// silences from the silence store, receivers and status from the alerting
// configuration. Paths, parameters, JSON fields and status codes are
// Alertmanager's, so `amtool --alertmanager.url=http://gpuwd:9090` works.
package amapi
