package slurm

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// leaveReason starts the drain reason a leaving worker sets; a worker that
// finds its node drained with it (an earlier leave cut short) resumes it.
const leaveReason = "gpuwd-agent: leaving"

// Grace periods of a stop. A container runtime waits about 10 s between
// SIGTERM and SIGKILL; the whole leave fits in that.
const (
	jobsGrace   = 3 * time.Second // for Slurm to end the node's jobs itself
	daemonGrace = 3 * time.Second // per daemon, between SIGTERM and SIGKILL
)

// Stop takes the node out of the cluster and stops its daemons; nothing it
// started is left running. A worker drains itself, has its jobs requeued
// or ended, stops slurmd and deletes its dynamic node. A head ends the jobs
// on its own node and stops slurmd and slurmctld, whose saved state keeps
// the cluster's nodes for its next start.
func (n *Node) Stop() {
	n.stopOnce.Do(n.stop)
}

func (n *Node) stop() {
	if n.cancel == nil {
		return // never started
	}
	n.cancel()
	<-n.done
	n.mu.Lock()
	munged, ctld, slurmd, joined := n.munged, n.ctld, n.slurmd, n.joined
	n.joined, n.status = false, "stopped"
	n.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if slurmd != nil {
		if n.opts.Role == RoleWorker && joined {
			n.drain(ctx)
		}
		killJobProcesses(n.logger.Warn)
		slurmd.Stop(daemonGrace)
		if n.opts.Role == RoleWorker && joined {
			if _, err := n.runner.Run(ctx, "scontrol", "delete", "NodeName="+n.name); err != nil {
				n.logger.Warn("could not delete this node from the cluster", "node", n.name, "err", err)
			} else {
				n.logger.Info("left the Slurm cluster", "node", n.name)
			}
		}
	}
	if ctld != nil {
		ctld.Stop(daemonGrace)
	}
	if munged != nil {
		munged.Stop(daemonGrace)
	}
	n.logger.Info("Slurm daemons stopped", "took", time.Since(start).Round(time.Millisecond))
}

// drain stops new jobs coming to the node and ends the running ones: DOWN
// requeues batch jobs that allow it and kills the rest. It waits for them,
// briefly, so that they end the way Slurm ends jobs.
func (n *Node) drain(ctx context.Context) {
	if _, err := n.runner.Run(ctx, "scontrol", "update", "NodeName="+n.name, "State=DRAIN", "Reason="+leaveReason); err != nil {
		n.logger.Warn("could not drain this node", "err", err)
		return
	}
	jobs, err := n.jobsHere(ctx)
	if err != nil || len(jobs) == 0 {
		return
	}
	n.logger.Info("ending the jobs on this node", "jobs", strings.Join(jobs, ","))
	if _, err := n.runner.Run(ctx, "scontrol", "update", "NodeName="+n.name, "State=DOWN", "Reason="+leaveReason); err != nil {
		n.logger.Warn("could not take this node down", "err", err)
	}
	deadline := time.Now().Add(jobsGrace)
	for time.Now().Before(deadline) {
		if jobs, err := n.jobsHere(ctx); err != nil || len(jobs) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// jobsHere lists the jobs the controller has on this node.
func (n *Node) jobsHere(ctx context.Context) ([]string, error) {
	out, err := n.runner.Run(ctx, "squeue", "-h", "-w", n.name, "-t", "RUNNING,COMPLETING,SUSPENDED,CONFIGURING", "-o", "%i")
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

// killJobProcesses kills every slurmstepd of this mount namespace (the
// container, or the node in tests) with all its descendants. slurmstepd
// outlives slurmd and ignores SIGTERM while its job runs, so without this a
// stopped node would leave jobs running.
func killJobProcesses(warn func(string, ...any)) {
	self := mountNamespace("self")
	procs := listProcesses()
	children := map[int][]int{}
	for pid, p := range procs {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	var victims []int
	var walk func(int)
	walk = func(pid int) {
		victims = append(victims, pid)
		for _, c := range children[pid] {
			walk(c)
		}
	}
	for pid, p := range procs {
		if p.comm == "slurmstepd" && procs[p.ppid].comm != "slurmstepd" && mountNamespace(strconv.Itoa(pid)) == self {
			walk(pid)
		}
	}
	if len(victims) == 0 {
		return
	}
	warn("killing job processes left on this node", "processes", len(victims))
	for _, pid := range victims {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	// Reap what was ours and give the kernel a moment to tear the rest down.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		alive := false
		for _, pid := range victims {
			if syscall.Kill(pid, 0) == nil {
				alive = true
				break
			}
		}
		if !alive {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type process struct {
	ppid int
	comm string
}

// listProcesses reads every process's parent and name from /proc.
func listProcesses() map[int]process {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	procs := map[int]process{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// "pid (comm) state ppid …": comm may hold spaces and parentheses.
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		rest := strings.Fields(s[close+1:])
		if len(rest) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(rest[1])
		procs[pid] = process{ppid: ppid, comm: s[open+1 : close]}
	}
	return procs
}

func mountNamespace(pid string) string {
	ns, _ := os.Readlink("/proc/" + pid + "/ns/mnt")
	return ns
}
