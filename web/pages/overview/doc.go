// Package overview is the dashboard's front page: the fleet in a dozen
// numbers (nodes, GPUs allocated, busy and idle, utilisation, memory,
// power, what the fleet costs per hour and how much of it pays for idle
// GPUs), the last hour's trend under the ones that move, and the alerts
// firing now. Each number is one PromQL query; one that fails shows why in
// its tile and the others still render. Viewers within a scrape interval
// share the evaluations, and a trend point once evaluated is kept (see
// query.Cache), so a refresh evaluates the numbers and nothing else.
package overview
