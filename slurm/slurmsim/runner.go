package slurmsim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/parse"
)

// Runner answers the Slurm commands that package collector runs, with the
// cluster as it is at the moment of the call, in the text formats package
// parse reads. It implements collector.Runner.
type Runner struct {
	c   *Cluster
	now func() time.Time
}

// NewRunner returns a Runner for c; now is the clock (time.Now when nil).
func NewRunner(c *Cluster, now func() time.Time) *Runner {
	if now == nil {
		now = time.Now
	}
	return &Runner{c: c, now: now}
}

// errInvalidJob is what scontrol says of a job slurmctld does not hold.
var errInvalidJob = errors.New("slurm_load_jobs error: Invalid job id specified")

// Run answers one command: exactly the argument lists of package parse.
func (r *Runner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := r.now()
	var b strings.Builder
	switch {
	case name == "sinfo" && slices.Equal(args, parse.NodesArgs):
		writeSinfo(&b, r.c.NodeStatuses(r.c.Jobs(t)))
	case name == "squeue" && slices.Equal(args, parse.JobsArgs):
		for _, j := range r.c.Jobs(t) {
			writeJob(&b, j)
		}
	case name == "squeue" && len(args) > 4 && slices.Equal(args, parse.NodeJobsArgs(args[4])):
		for _, j := range r.c.NodeJobs(args[4], t) {
			fmt.Fprintf(&b, "%d|%d|%s|%s|%s|%s\n", j.ID, j.ID, stamp(j.Start), j.User, j.Account, j.Partition)
		}
	case name == "scontrol" && slices.Equal(args, parse.PartitionsArgs):
		r.writePartitions(&b, r.c.NodeStatuses(r.c.Jobs(t)))
	case name == "scontrol" && len(args) == 5 && slices.Equal(args, parse.JobDetailArgs(args[4])):
		jobs := r.c.Jobs(t)
		i := slices.IndexFunc(jobs, func(j Job) bool { return strconv.FormatUint(uint64(j.ID), 10) == args[4] })
		if i < 0 {
			return nil, fmt.Errorf("scontrol %s: %w", strings.Join(args, " "), errInvalidJob)
		}
		writeJobDetail(&b, jobs[i], t.Unix())
	case name == "sdiag" && len(args) == 0:
		r.writeSdiag(&b, t)
	default:
		return nil, fmt.Errorf("%s %s: not simulated: exit status 1", name, strings.Join(args, " "))
	}
	return []byte(b.String()), nil
}

// stamp is a time as Slurm prints it.
func stamp(unix int64) string { return time.Unix(unix, 0).Format("2006-01-02T15:04:05") }

// gres is a GPU GRES entry: "gpu:h100:4", or "gpu:4" untyped.
func gres(typ string, n int) string {
	if typ == "" {
		return fmt.Sprintf("gpu:%d", n)
	}
	return fmt.Sprintf("gpu:%s:%d", typ, n)
}

// gresIdx is a GRES entry with the devices in use: "gpu:h100:2(IDX:0-1)".
func gresIdx(typ string, idx []int) string {
	if len(idx) == 0 {
		return gres(typ, 0) + "(IDX:N/A)"
	}
	return gres(typ, len(idx)) + "(IDX:" + idxList(idx) + ")"
}

// idxList prints GPU indices as Slurm does: "0-3,6".
func idxList(idx []int) string {
	s := ""
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if s != "" {
			s += ","
		}
		s += strconv.Itoa(idx[i])
		if j > i {
			s += "-" + strconv.Itoa(idx[j])
		}
		i = j + 1
	}
	return s
}

// writeSinfo prints one line per node and partition, as sinfo -N does.
func writeSinfo(b *strings.Builder, nodes []NodeStatus) {
	for _, n := range nodes {
		idle, other := n.CPUs-n.CPUsAlloc, 0
		if !n.Takes() {
			idle, other = 0, n.CPUs-n.CPUsAlloc
		}
		reason := n.Reason
		if reason == "" {
			reason = "none"
		}
		for _, p := range n.Partitions {
			fmt.Fprintf(b, "%s|%s|%s|%d/%d/%d/%d|%d|%d|%s|%s|%s\n", n.Name, p, n.State, n.CPUsAlloc, idle, other, n.CPUs,
				n.MemAllocMB, n.MemMB, gres(n.Type, n.GPUs), gresIdx(n.Type, n.GPUIdx), reason)
		}
	}
}

// writeJob prints a job as squeue does with parse.JobsArgs.
func writeJob(b *strings.Builder, j Job) {
	perNode := "gres/" + gres(j.GRESType, j.GPUs/max(j.Nodes, 1))
	alloc := fmt.Sprintf("cpu=%d,mem=%dM,node=%d,billing=%d", j.CPUs, j.MemMB, j.Nodes, j.CPUs)
	if j.State != "PENDING" {
		alloc += fmt.Sprintf(",gres/gpu=%d", j.GPUs)
		if j.GRESType != "" {
			alloc += fmt.Sprintf(",gres/gpu:%s=%d", j.GRESType, j.GPUs)
		}
	}
	fmt.Fprintf(b, "%d|%s|%s|%s|%s|%d|%d|%d|%s|N/A|N/A|%s|%s\n", j.ID, j.State, j.Partition, j.User, j.Account,
		j.CPUs, j.Nodes, j.Nodes, perNode, alloc, j.Reason)
}

// writeJobDetail prints a job as scontrol -d -o show job does: one line,
// with a Nodes= CPU_IDs= Mem= GRES= group while it runs.
func writeJobDetail(b *strings.Builder, j Job, t int64) {
	uid := 2001 + slices.IndexFunc(users, func(u user) bool { return u.name == j.User })
	nodeList, runTime := "(null)", "00:00:00"
	if j.State != "PENDING" {
		nodeList = j.Node
		runTime = duration(min(t, j.End) - j.Start)
	}
	fmt.Fprintf(b, "JobId=%d JobName=%s UserId=%s(%d) GroupId=%s(%d) MCS_label=N/A Priority=%d Nice=0 Account=%s QOS=normal "+
		"JobState=%s Reason=%s Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 "+
		"RunTime=%s TimeLimit=2-00:00:00 SubmitTime=%s StartTime=%s Partition=%s NodeList=%s NumNodes=%d NumCPUs=%d "+
		"NumTasks=%d CPUs/Task=1 TRES=cpu=%d,mem=%dM,node=%d,billing=%d JOB_GRES=%s",
		j.ID, j.Name, j.User, uid, j.User, uid, 4294901000-j.ID%100000, j.Account, j.State, j.Reason,
		runTime, stamp(j.Submit), stamp(j.Start), j.Partition, nodeList, j.Nodes, j.CPUs,
		j.Nodes, j.CPUs, j.MemMB, j.Nodes, j.CPUs, gres(j.GRESType, j.GPUs))
	if j.State == "RUNNING" {
		fmt.Fprintf(b, "   Nodes=%s CPU_IDs=0-%d Mem=%d GRES=%s", j.Node, j.CPUs-1, j.MemMB, gresIdx(j.GRESType, j.GPUIdx))
	}
	fmt.Fprintf(b, " MinCPUsNode=1 Features=(null) Command=/home/%s/%s.sh WorkDir=/home/%s TresPerNode=gres/%s\n",
		j.User, j.Name, j.User, gres(j.GRESType, j.GPUs/max(j.Nodes, 1)))
}

// duration prints seconds as Slurm prints a duration: [D-]HH:MM:SS.
func duration(s int64) string {
	s = max(s, 0)
	d, h, m := s/86400, s/3600%24, s/60%60
	if d > 0 {
		return fmt.Sprintf("%d-%02d:%02d:%02d", d, h, m, s%60)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s%60)
}

// writePartitions prints every partition as scontrol -o show partition
// does.
func (r *Runner) writePartitions(b *strings.Builder, nodes []NodeStatus) {
	for i, p := range r.c.parts {
		cpus := 0
		for _, n := range nodes {
			if slices.Contains(n.Partitions, p.name) {
				cpus += n.CPUs
			}
		}
		def, maxTime := "NO", "1:00:00"
		if i == 0 {
			def, maxTime = "YES", "2-00:00:00"
		}
		list := strings.Join(p.nodes, ",")
		if list == "" {
			list = "(null)"
		}
		fmt.Fprintf(b, "PartitionName=%s AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL AllocNodes=ALL Default=%s QoS=N/A "+
			"DefaultTime=NONE DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 Hidden=NO MaxNodes=UNLIMITED MaxTime=%s "+
			"MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED Nodes=%s PriorityJobFactor=1 PriorityTier=1 RootOnly=NO ReqResv=NO "+
			"OverSubscribe=NO OverTimeLimit=NONE PreemptMode=OFF State=UP TotalCPUs=%d TotalNodes=%d "+
			"SelectTypeParameters=NONE JobDefaults=(null) DefMemPerNode=UNLIMITED MaxMemPerNode=UNLIMITED\n",
			p.name, def, maxTime, list, cpus, len(p.nodes))
	}
}
