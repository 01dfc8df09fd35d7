package slurmsim

// backlogJob is a job that waits for its whole slot and is then withdrawn:
// what keeps a busy cluster's queue from ever being empty.
type backlogJob struct {
	name, user, account, partition string
	gpus, nodes                    int
	reason                         string
	node                           int // the node it asks for; -1: any
}

// addBacklog adds the backlog's lanes: a job bigger than any free block
// (Resources) and, when a node is out of service, one that asks for that
// node (ReqNodeNotAvail).
func (c *Cluster) addBacklog() {
	most, up := 0, false
	for _, n := range c.nodes {
		most = max(most, n.GPUs)
		up = up || n.Avail == Up || n.Avail == Idle
	}
	if up {
		c.lanes = append(c.lanes, lane{key: 0xb1, period: 2 * 3600, node: -1, backlog: &backlogJob{
			name: "pretrain-70b", user: "alice", account: "ml-research", partition: "gpu",
			gpus: 2 * most, nodes: 2, reason: "Resources", node: -1}})
	}
	for i, n := range c.nodes {
		if n.Avail == Drain || n.Avail == Down {
			c.lanes = append(c.lanes, lane{key: 0xb2, period: 4 * 3600, node: -1, backlog: &backlogJob{
				name: "burn-in-" + n.Name, user: "frank", account: "infra", partition: n.parts[0],
				gpus: n.GPUs, nodes: 1, reason: "ReqNodeNotAvail, UnavailableNodes:" + n.Name, node: i}})
			break
		}
	}
}

// backlogJob is the job of a backlog lane in slot k: submitted when the
// slot starts, pending until it ends.
func (c *Cluster) backlogJob(l *lane, k int64) Job {
	b := l.backlog
	d := newDraw(c.seed, l.key, uint64(k), 4)
	slot := origin + l.offset + k*l.period
	j := Job{Name: b.name, User: b.user, Account: b.account, Partition: b.partition, GPUs: b.gpus, Nodes: b.nodes,
		CPUs: b.gpus * cpusPerGPU, MemMB: int64(b.gpus) * memMBPerGPU * 8 / 10, PendReason: b.reason,
		Submit: slot + int64(d.intn(60)), Final: "CANCELLED"}
	j.Start, j.End = slot+l.period, slot+l.period
	if b.node >= 0 {
		j.GRESType = c.nodes[b.node].Type
	}
	j.ID = c.jobID(j.Submit, l.idx)
	return j
}
