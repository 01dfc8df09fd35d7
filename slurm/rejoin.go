package slurm

import (
	"context"
	"time"
)

// A dynamic node (slurmd -Z) joins the cluster by registering when slurmd
// starts, and slurmd does not register again by itself. A controller that
// comes back without its saved state (the head's pod restarted on a fresh
// disk, or slurmctld killed before it saved a registration) no longer knows
// the node, which would then stay out of the cluster, slurmd running, until
// someone restarted it. rejoin does that restart.
const (
	// rejoinAfter is how many collection cycles in a row the controller must
	// answer without this node before slurmd is restarted.
	rejoinAfter = 2
	// rejoinBackoff is the least time between two restarts while they do
	// not bring the node back; it doubles up to rejoinBackoffMax, and starts
	// over once one does.
	rejoinBackoff    = 10 * time.Second
	rejoinBackoffMax = 5 * time.Minute
	// rejoinWait is how long a restarted slurmd gets to register the node.
	rejoinWait = 10 * time.Second
)

// rejoinState is the collection loop's count of cycles the node was
// missing, and when slurmd may be restarted next.
type rejoinState struct {
	missing int
	backoff time.Duration
	next    time.Time
}

// rejoin is called after each cycle in which the controller answered
// without this node: after rejoinAfter of them, slurmd is restarted so that
// it registers the node again.
func (n *Node) rejoin(ctx context.Context) {
	r := &n.rejoins
	r.missing++
	if r.missing < rejoinAfter || time.Now().Before(r.next) {
		return
	}
	r.backoff = min(max(2*r.backoff, rejoinBackoff), rejoinBackoffMax)
	r.next, r.missing = time.Now().Add(r.backoff), 0
	n.mu.Lock()
	slurmd, server := n.slurmd, n.confServer
	n.mu.Unlock()
	n.logger.Warn("the Slurm controller no longer knows this node (restarted without its saved state?): restarting slurmd to register it again",
		"node", n.name, "conf_server", server)
	if slurmd != nil {
		slurmd.Stop(daemonGrace)
	}
	err := n.startSlurmd(ctx, server)
	if err == nil {
		err = waitFor(ctx, rejoinWait, "the node to register again", func() error {
			_, _, err := n.nodeState(ctx)
			return err
		})
	}
	switch {
	case err == nil:
		n.logger.Info("the node is in the cluster again", "node", n.name)
		*r = rejoinState{}
	case ctx.Err() == nil:
		n.logger.Error("the node did not register again; trying later", "node", n.name, "err", err, "in", r.backoff)
	}
}
