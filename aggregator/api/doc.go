// Package api is the aggregator's Prometheus HTTP API: the part of
// Prometheus' /api/v1 that Grafana's Prometheus data source, promtool and
// other Prometheus clients use, answered from gpuwd's own store, scraper and
// rules, so those tools work against gpuwd unchanged.
//
// The handlers follow Prometheus' web/api/v1 (v3.15) closely: the same
// parameters, defaults, limits, error types and status codes, and byte for
// byte the same JSON for query results. They are written here rather than
// imported because that package pulls in the rule manager, remote storage and
// the cloud SDKs behind them. Query results are encoded by hand, straight
// into a reused buffer, since a dashboard's range query can return a million
// points.
//
// The package depends only on what it is given: a storage.Queryable, a
// promql.Engine and small lister interfaces for targets, metadata and rules,
// which the wiring in gpuwd serve adapts the real scraper and store to.
// Client is the other end, used by gpuwd query.
package api
