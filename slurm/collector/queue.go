package collector

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/parse"
)

// queueStates are the job states with a slurm_queue_* series (vpenso's);
// jobs in other states (BOOT_FAIL, DEADLINE, REQUEUED, …) are not counted.
var queueStates = []string{"PENDING", "RUNNING", "SUSPENDED", "CANCELLED", "COMPLETING", "COMPLETED",
	"CONFIGURING", "FAILED", "TIMEOUT", "PREEMPTED", "NODE_FAIL", "OUT_OF_MEMORY"}

var queueDescs = func() map[string]*prometheus.Desc {
	m := map[string]*prometheus.Desc{}
	for _, s := range queueStates {
		l := strings.ToLower(s)
		m[s] = clusterDescs.gauge("slurm_queue_"+l, "Jobs in state "+s+" (finished ones for MinJobAge).")
	}
	return m
}()

var (
	queueDependencyDesc = clusterDescs.gauge("slurm_queue_pending_dependency", "Pending jobs waiting for a dependency.")

	// Per user and per account, as in vpenso's users.go and accounts.go
	// plus SckyzO's GPUs.
	userJobsPendDesc = clusterDescs.gauge("slurm_user_jobs_pending", "Pending jobs per user.", "user")
	userJobsRunDesc  = clusterDescs.gauge("slurm_user_jobs_running", "Running jobs per user.", "user")
	userCPUsRunDesc  = clusterDescs.gauge("slurm_user_cpus_running", "CPUs of running jobs per user.", "user")
	userJobsSuspDesc = clusterDescs.gauge("slurm_user_jobs_suspended", "Suspended jobs per user.", "user")
	userGPUsRunDesc  = clusterDescs.gauge("slurm_user_gpus_running", "GPUs of running jobs per user.", "user")
	acctJobsPendDesc = clusterDescs.gauge("slurm_account_jobs_pending", "Pending jobs per account (\"\" for none).", "account")
	acctJobsRunDesc  = clusterDescs.gauge("slurm_account_jobs_running", "Running jobs per account.", "account")
	acctCPUsRunDesc  = clusterDescs.gauge("slurm_account_cpus_running", "CPUs of running jobs per account.", "account")
	acctJobsSuspDesc = clusterDescs.gauge("slurm_account_jobs_suspended", "Suspended jobs per account.", "account")
	acctGPUsRunDesc  = clusterDescs.gauge("slurm_account_gpus_running", "GPUs of running jobs per account.", "account")
)

// One series per job still in play, so the dashboard can list the queue
// with pending reasons through PromQL, as kube-state-metrics lists pods.
// Finished jobs (kept by slurmctld for MinJobAge) are left out, which
// bounds the series to the live queue.
var (
	jobInfoDesc = clusterDescs.gauge("gpuwd_slurm_job_info",
		"A job in the queue (always 1): its state and, while pending, why.",
		"job_id", "user", "account", "partition", "state", "reason")
	jobGPUsDesc = clusterDescs.gauge("gpuwd_slurm_job_gpus", "GPUs a job in the queue asks for or holds.", "job_id")
	jobCPUsDesc = clusterDescs.gauge("gpuwd_slurm_job_cpus", "CPUs a job in the queue asks for or holds.", "job_id")
)

// liveStates are the job states with per-job series.
var liveStates = map[string]bool{"PENDING": true, "RUNNING": true, "SUSPENDED": true, "CONFIGURING": true, "COMPLETING": true}

func addJob(b *batch, j parse.Job) {
	if !liveStates[j.State] {
		return
	}
	reason := j.Reason
	if reason == "None" {
		reason = ""
	}
	b.add(jobInfoDesc, 1, j.ID, j.User, j.Account, j.Partition, j.State, reason)
	b.add(jobGPUsDesc, float64(j.GPUs), j.ID)
	b.add(jobCPUsDesc, float64(j.CPUs), j.ID)
}

// ownerStats are the jobs of one user or account.
type ownerStats struct{ pending, running, suspended, cpus, gpus int }

func (s *ownerStats) add(j parse.Job) {
	switch j.State {
	case "PENDING":
		s.pending++
	case "RUNNING":
		s.running++
		s.cpus += j.CPUs
		s.gpus += j.GPUs
	case "SUSPENDED":
		s.suspended++
	}
}

// addQueue adds the job series: totals per state, and per user and account
// for every user and account that has a job in the queue.
func addQueue(b *batch, jobs []parse.Job) {
	states := map[string]int{}
	dependency := 0
	users, accounts := map[string]*ownerStats{}, map[string]*ownerStats{}
	for _, j := range jobs {
		states[j.State]++
		if j.State == "PENDING" && j.Reason == "Dependency" {
			dependency++
		}
		owner(users, j.User).add(j)
		owner(accounts, j.Account).add(j)
		addJob(b, j)
	}
	for s, d := range queueDescs {
		b.add(d, float64(states[s]))
	}
	b.add(queueDependencyDesc, float64(dependency))
	for u, s := range users {
		b.add(userJobsPendDesc, float64(s.pending), u)
		b.add(userJobsRunDesc, float64(s.running), u)
		b.add(userCPUsRunDesc, float64(s.cpus), u)
		b.add(userJobsSuspDesc, float64(s.suspended), u)
		b.add(userGPUsRunDesc, float64(s.gpus), u)
	}
	for a, s := range accounts {
		b.add(acctJobsPendDesc, float64(s.pending), a)
		b.add(acctJobsRunDesc, float64(s.running), a)
		b.add(acctCPUsRunDesc, float64(s.cpus), a)
		b.add(acctJobsSuspDesc, float64(s.suspended), a)
		b.add(acctGPUsRunDesc, float64(s.gpus), a)
	}
}

func owner(m map[string]*ownerStats, name string) *ownerStats {
	s := m[name]
	if s == nil {
		s = &ownerStats{}
		m[name] = s
	}
	return s
}
