// Package webhook posts notifications to any HTTP endpoint as
// Alertmanager's webhook JSON (version 4), so receivers written for
// Alertmanager (ticketing bridges, paging gateways, scripts) work unchanged.
// It honours max_alerts by sending the first alerts and counting the rest
// in truncatedAlerts, and sends an Authorization header whose credentials
// file is read at each send, so rotated tokens need no restart.
package webhook
