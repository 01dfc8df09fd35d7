// Package ruletest runs Prometheus' rule unit-test files (the format of
// `promtool test rules`) through our own rule engine, alerts/rules, so that
// `gpuwd rules test` proves what the aggregator will actually do with a rule
// file rather than what Prometheus would: the input series are loaded into
// an in-memory store step by step, every group is evaluated at each
// evaluation_interval by a rules.Manager exactly as the aggregator's loops
// would, and the firing alerts and PromQL results are compared with the
// expected ones and reported the way promtool reports them.
package ruletest
