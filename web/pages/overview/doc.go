// Package overview is the dashboard's front page: the fleet in a dozen
// numbers (nodes, GPUs allocated, busy and idle, utilisation, memory,
// power, what the fleet costs per hour and how much of it pays for idle
// GPUs) and the alerts firing now. Each number is one PromQL query; one
// that fails shows why in its tile and the others still render.
package overview
