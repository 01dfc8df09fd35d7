// Package runpodtest is a fake RunPod GraphQL API on 127.0.0.1, so the
// runpod provider, the aggregator and the browser tests provision pods
// without a cloud account, a bill or a network.
//
// The fake keeps pods in memory and behaves like the real API where the
// provider depends on it: Bearer keys (401 otherwise), input passed as
// GraphQL variables, errors in HTTP 200 replies, pods that start some time
// after they are created, stopped pods billed for their volume only, and
// terminated pods gone. Tests inject the failures a client must survive:
// 429s with Retry-After, 5xx, GraphQL errors, and creates that succeed on
// the server but fail on the way back. It answers every field it knows of
// whatever the query selects; it is not a GraphQL engine.
package runpodtest
