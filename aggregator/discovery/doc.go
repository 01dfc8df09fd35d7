// Package discovery is where the aggregator's targets come from. A scrape job
// can list them statically, name Prometheus file_sd files that an inventory
// tool rewrites, or leave the agents to register themselves over HTTP (the
// usual case on RunPod and other clouds where nodes come and go and no one
// keeps a list). The Manager merges the three into one sorted, de-duplicated
// set of target.Target, tells the scraper whenever that set changes, and
// serves it back out in Prometheus' HTTP SD format so an existing Prometheus
// can scrape the same fleet.
//
// Self-registered agents are remembered through a small key-value interface
// (the SQLite store implements it), so a restarted aggregator goes on
// scraping them before their next heartbeat; an agent that stops
// heartbeating is forgotten after registration.forget_after.
package discovery
