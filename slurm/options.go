package slurm

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/conf"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/munge"
)

// Role is what a node is in its Slurm cluster.
type Role string

// The roles. A head with GPUs is also a compute node.
const (
	RoleNone   Role = "none"
	RoleHead   Role = "head"
	RoleWorker Role = "worker"
)

// Defaults.
const (
	DefaultStateDir        = "/var/lib/gpuwd/slurm"
	DefaultClusterName     = "gpuwd"
	DefaultPartition       = "gpu"
	DefaultMaxNodes        = 256
	DefaultCollectInterval = 15 * time.Second
	DefaultCommandTimeout  = 5 * time.Second
)

// Options configure a node's part in Slurm. Each is a flag and a GPUWD_*
// environment variable (see RegisterFlags).
type Options struct {
	Role            Role
	ClusterName     string
	Partition       string
	ConfServer      string // worker: the head's host[:port]; head: the address workers reach it at
	NodeName        string // default: the short hostname
	Features        string // comma-separated, added to the GPU model feature
	MaxNodes        int
	StateDir        string
	DeviceDir       string // where the GPUs' device files are (/dev)
	MungeKey        string // base64; a secret
	MungeKeyFile    string
	CollectInterval time.Duration
	CommandTimeout  time.Duration
}

// DefaultOptions is what an agent started without Slurm flags uses.
func DefaultOptions() Options {
	return Options{Role: RoleNone, ClusterName: DefaultClusterName, Partition: DefaultPartition,
		MaxNodes: DefaultMaxNodes, StateDir: DefaultStateDir, DeviceDir: "/dev",
		CollectInterval: DefaultCollectInterval, CommandTimeout: DefaultCommandTimeout}
}

// RegisterFlags binds o to fs.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.Func("slurm-role", "this node's part in a Slurm cluster: head, worker or none (default none)", func(s string) error {
		switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
		case RoleNone, RoleHead, RoleWorker:
			o.Role = r
			return nil
		case "":
			o.Role = RoleNone
			return nil
		}
		return fmt.Errorf("%q: want head, worker or none", s)
	})
	fs.StringVar(&o.ClusterName, "slurm-cluster-name", o.ClusterName, "Slurm ClusterName (head)")
	fs.StringVar(&o.Partition, "slurm-partition", o.Partition, "name of the default partition over every node (head)")
	fs.StringVar(&o.ConfServer, "slurm-conf-server", o.ConfServer,
		"worker: the head's HOST[:PORT] to fetch the configuration from and join; head: the address workers reach it at (default: its RunPod Global Networking address, else this node's IP)")
	fs.StringVar(&o.NodeName, "slurm-node-name", o.NodeName, "Slurm node name (default: the short hostname)")
	fs.StringVar(&o.Features, "slurm-features", o.Features, "comma-separated node features besides the GPU model's")
	fs.IntVar(&o.MaxNodes, "slurm-max-nodes", o.MaxNodes, "how many nodes may join the cluster (head: MaxNodeCount)")
	fs.StringVar(&o.StateDir, "slurm-state-dir", o.StateDir, "where the head keeps controller state and this node its munge key")
	fs.StringVar(&o.DeviceDir, "slurm-device-dir", o.DeviceDir, "directory holding the GPUs' device files (nvidia0, …)")
	fs.StringVar(&o.MungeKey, "munge-key", o.MungeKey,
		"the cluster's munge key, base64 (same on every node; make one with: gpuwd-agent munge-key)")
	fs.StringVar(&o.MungeKeyFile, "munge-key-file", o.MungeKeyFile, "file holding the raw munge key")
	fs.DurationVar(&o.CollectInterval, "slurm-collect-interval", o.CollectInterval, "how often to read Slurm's state for metrics")
	fs.DurationVar(&o.CommandTimeout, "slurm-command-timeout", o.CommandTimeout, "how long one Slurm command may take")
}

// Enabled reports whether the node takes part in Slurm.
func (o Options) Enabled() bool { return o.Role == RoleHead || o.Role == RoleWorker }

// Check reports every problem with o at once. No message carries the key.
func (o Options) Check() error {
	if !o.Enabled() {
		return nil
	}
	var errs []error
	if o.Role == RoleWorker && o.ConfServer == "" {
		errs = append(errs, errors.New("--slurm-role worker needs --slurm-conf-server: the head's address"))
	}
	if o.ConfServer != "" {
		if _, _, err := conf.SplitHostPort(o.ConfServer, conf.DefaultControllerPort); err != nil {
			errs = append(errs, fmt.Errorf("--slurm-conf-server: %w", err))
		}
	}
	if o.NodeName != "" && !conf.ValidNodeName(o.NodeName) {
		errs = append(errs, fmt.Errorf("--slurm-node-name %q: want letters, digits, ., - or _", o.NodeName))
	}
	if !filepath.IsAbs(o.StateDir) {
		errs = append(errs, fmt.Errorf("--slurm-state-dir %q: want an absolute path", o.StateDir))
	}
	if o.MaxNodes < 1 {
		errs = append(errs, fmt.Errorf("--slurm-max-nodes %d: want at least 1", o.MaxNodes))
	}
	if o.CollectInterval < time.Second {
		errs = append(errs, fmt.Errorf("--slurm-collect-interval %v: want at least 1s", o.CollectInterval))
	}
	if o.CommandTimeout < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("--slurm-command-timeout %v: want at least 100ms", o.CommandTimeout))
	}
	if o.MungeKey != "" && o.MungeKeyFile != "" {
		errs = append(errs, errors.New("--munge-key and --munge-key-file: give one"))
	}
	if o.MungeKey != "" {
		if _, err := munge.ParseKey(o.MungeKey); err != nil {
			errs = append(errs, fmt.Errorf("--munge-key: %w", err))
		}
	}
	if o.Role == RoleWorker && o.MungeKey == "" && o.MungeKeyFile == "" {
		errs = append(errs, errors.New("--slurm-role worker needs the head's munge key: --munge-key (GPUWD_MUNGE_KEY) or --munge-key-file"))
	}
	return errors.Join(errs...)
}

// keyPath is where munged reads the key on this node.
func (o Options) keyPath() string { return filepath.Join(o.StateDir, "munge", "munge.key") }

// confDir holds the head's generated configuration.
func (o Options) confDir() string { return filepath.Join(o.StateDir, "etc") }
