package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/parse"
)

// schedStats are the sdiag series: a getter per series, in the names of
// vpenso and SckyzO. The backfilled-job totals are exported under both
// names in use: vpenso's slurm_total_backfilled_* and the
// slurm_scheduler_backfilled_*_total of SckyzO and most forks (gauges,
// despite the suffix: sdiag's counters reset).
var schedStats = []struct {
	desc *prometheus.Desc
	stat func(*parse.Scheduler) parse.Stat
}{
	{clusterDescs.gauge("slurm_scheduler_threads", "slurmctld server threads (sdiag)."),
		func(s *parse.Scheduler) parse.Stat { return s.ServerThreads }},
	{clusterDescs.gauge("slurm_scheduler_queue_size", "slurmctld agent queue size (sdiag)."),
		func(s *parse.Scheduler) parse.Stat { return s.AgentQueue }},
	{clusterDescs.gauge("slurm_scheduler_dbd_queue_size", "slurmdbd agent queue size (sdiag)."),
		func(s *parse.Scheduler) parse.Stat { return s.DBDAgentQueue }},
	{clusterDescs.gauge("slurm_scheduler_last_cycle", "Main scheduler: last cycle, in microseconds."),
		func(s *parse.Scheduler) parse.Stat { return s.LastCycle }},
	{clusterDescs.gauge("slurm_scheduler_mean_cycle", "Main scheduler: mean cycle, in microseconds."),
		func(s *parse.Scheduler) parse.Stat { return s.MeanCycle }},
	{clusterDescs.gauge("slurm_scheduler_cycle_per_minute", "Main scheduler: cycles per minute."),
		func(s *parse.Scheduler) parse.Stat { return s.CyclesPerMinute }},
	{clusterDescs.gauge("slurm_scheduler_backfill_last_cycle", "Backfill scheduler: last cycle, in microseconds."),
		func(s *parse.Scheduler) parse.Stat { return s.BackfillLastCycle }},
	{clusterDescs.gauge("slurm_scheduler_backfill_mean_cycle", "Backfill scheduler: mean cycle, in microseconds."),
		func(s *parse.Scheduler) parse.Stat { return s.BackfillMeanCycle }},
	{clusterDescs.gauge("slurm_scheduler_backfill_depth_mean", "Backfill scheduler: mean depth."),
		func(s *parse.Scheduler) parse.Stat { return s.BackfillDepthMean }},
	{clusterDescs.gauge("slurm_scheduler_backfilled_jobs_since_start_total", "Jobs started by backfill since slurmctld started."),
		func(s *parse.Scheduler) parse.Stat { return s.BackfilledJobsSinceStart }},
	{clusterDescs.gauge("slurm_total_backfilled_jobs_since_start", "Jobs started by backfill since slurmctld started (vpenso's name)."),
		func(s *parse.Scheduler) parse.Stat { return s.BackfilledJobsSinceStart }},
	{clusterDescs.gauge("slurm_scheduler_backfilled_jobs_since_cycle_total", "Jobs started by backfill since the stats were last reset."),
		func(s *parse.Scheduler) parse.Stat { return s.BackfilledJobsSinceCycle }},
	{clusterDescs.gauge("slurm_total_backfilled_jobs_since_cycle", "Jobs started by backfill since the stats were last reset (vpenso's name)."),
		func(s *parse.Scheduler) parse.Stat { return s.BackfilledJobsSinceCycle }},
	{clusterDescs.gauge("slurm_scheduler_backfilled_heterogeneous_total", "Heterogeneous job components started by backfill."),
		func(s *parse.Scheduler) parse.Stat { return s.BackfilledHeterogeneous }},
	{clusterDescs.gauge("slurm_total_backfilled_heterogeneous", "Heterogeneous job components started by backfill (vpenso's name)."),
		func(s *parse.Scheduler) parse.Stat { return s.BackfilledHeterogeneous }},
}

// addScheduler adds the sdiag series for the lines sdiag printed.
func addScheduler(b *batch, s parse.Scheduler) {
	for _, st := range schedStats {
		if v := st.stat(&s); v.OK {
			b.add(st.desc, v.Value)
		}
	}
}
