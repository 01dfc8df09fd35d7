// Package runpod launches, stops and removes GPU pods on RunPod through its
// GraphQL API, so the aggregator can add capacity to the fleet and take it
// away again.
//
// It uses GraphQL rather than REST because REST v1 retires in 2026 and REST
// v2 is in beta; runpodctl still creates pods through GraphQL. Every call
// is retried on 429, 5xx and network failures with backoff, honouring
// Retry-After. A create whose reply is lost (timeout, 5xx, dropped
// connection) may still have made the pod, so before trying again the
// provider looks for a pod tagged with the spec's RequestID (env
// GPUWD_REQUEST_ID) and returns it: a retried create never makes two pods.
//
// The API key is sent as a Bearer header only; it never appears in errors,
// logs or the printed form of a Config or Provider.
package runpod
