package slurm

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/conf"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/supervise"
)

// GPU is what the Slurm side needs to know of one of the node's GPUs.
type GPU struct {
	Index      int    // NVML index: GRES index i is GPU i
	UUID       string // for gpuwd_gpu_job_info
	Model      string // NVML product name, for the node feature
	DeviceFile string // "nvidia0": the file under --slurm-device-dir
}

// Node is this machine's part in a Slurm cluster: the daemons it runs, its
// state, and its Slurm metrics. It never stops the agent: whatever goes wrong
// is logged once, shown by Ready and gpuwd_slurm_* metrics, and GPU metrics
// go on being served.
type Node struct {
	opts     Options
	logger   *slog.Logger
	gpus     []GPU
	hostname string
	name     string // the Slurm node name
	compute  bool   // runs slurmd

	programs map[string]string // found on PATH or in the sbin directories
	runner   *execRunner
	daemons  supervise.Metrics
	metrics  *nodeMetrics

	host conf.Root // where /proc and /sys are read: "/"

	rejoins rejoinState // used by the collection loop only

	mu         sync.Mutex
	status     string // why the node is not ready; "" once it is
	joined     bool
	munged     *supervise.Daemon
	ctld       *supervise.Daemon
	slurmd     *supervise.Daemon
	confServer string // the controller slurmd was started with
	cancel     context.CancelFunc
	done       chan struct{}
	stopOnce   sync.Once
}

// New checks opts and prepares the node; Start brings it up.
func New(opts Options, gpus []GPU, hostname string, logger *slog.Logger) (*Node, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	name := opts.NodeName
	if name == "" {
		name, _, _ = strings.Cut(hostname, ".")
	}
	if opts.Enabled() && !conf.ValidNodeName(name) {
		return nil, fmt.Errorf("hostname %q is not a valid Slurm node name: set --slurm-node-name", name)
	}
	n := &Node{opts: opts, logger: logger.With("component", "slurm"), gpus: gpus, hostname: hostname, name: name,
		compute: opts.Role == RoleWorker || opts.Role == RoleHead && len(gpus) > 0,
		daemons: supervise.NewMetrics("gpuwd_slurm"), host: "/",
		status: "starting", done: make(chan struct{})}
	n.metrics = newNodeMetrics(n)
	return n, nil
}

// Name is the node's Slurm name.
func (n *Node) Name() string { return n.name }

// Ready reports whether the node has joined its cluster (a head: its
// controller answers, and its own slurmd has joined when it has GPUs), and
// if not, why.
func (n *Node) Ready() (bool, string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.status == "", n.status
}

func (n *Node) setStatus(s string) {
	n.mu.Lock()
	n.status = s
	n.mu.Unlock()
}

// fail records why the node cannot take part, logging it once.
func (n *Node) fail(err error) {
	n.mu.Lock()
	changed := n.status != err.Error()
	n.status = err.Error()
	n.mu.Unlock()
	if changed {
		n.logger.Error("Slurm is not running on this node; GPU metrics are still served", "err", err)
	}
}

// Start brings the node up in the background.
func (n *Node) Start(ctx context.Context) {
	ctx, n.cancel = context.WithCancel(ctx)
	go func() {
		defer close(n.done)
		if err := n.bootstrap(ctx); err != nil {
			if ctx.Err() == nil {
				n.fail(err)
			}
			return
		}
		n.collect(ctx)
	}()
}

// Describe and Collect make the node's metrics a prometheus.Collector.
func (n *Node) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(n, ch) }

// Collect reports the daemons, the node's state and its Slurm metrics.
func (n *Node) Collect(ch chan<- prometheus.Metric) {
	n.daemons.Collect(ch)
	n.metrics.Collect(ch)
}
