package query

// BusyPercent: a GPU is busy when its utilisation averaged at least this
// over the last 5 minutes; the rule pack's idle alerts use the same
// threshold.
const BusyPercent = "5"

// IdleCostPerHour is what idle GPUs cost per hour: each node's price
// spread over its GPUs, summed over those under BusyPercent for 30
// minutes (as the rule pack's GPUIdleCost).
const IdleCostPerHour = `sum(gpuwd_node_cost_per_hour_dollars * on (instance) group_left ()
	(count by (instance) (avg_over_time(DCGM_FI_DEV_GPU_UTIL[30m]) < ` + BusyPercent + `) / count by (instance) (DCGM_FI_DEV_GPU_UTIL)))`
