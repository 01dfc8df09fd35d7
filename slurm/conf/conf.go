package conf

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Paths every node shares. Workers get slurm.conf and gres.conf from the
// head, so the paths written into them must be the same on every node: they
// are fixed here, not flags.
const (
	// SpoolDir is slurmd's spool directory; %n is the node name, so several
	// slurmds on one machine (tests) keep apart.
	SpoolDir = "/var/lib/gpuwd/slurmd"
	// GresDir holds the links gres.conf names (see the package comment).
	GresDir = "/run/gpuwd/gres"
	// GresSlots is how many GPU links every node provides; a node with more
	// GPUs offers Slurm this many.
	GresSlots = 16
	// MungeSocket is where munged listens. A configless slurmd asks for its
	// configuration before it has read AuthInfo, so only munge's default
	// path works for every daemon.
	MungeSocket = "/run/munge/munge.socket.2"

	DefaultControllerPort = 6817
	DefaultSlurmdPort     = 6818
)

// Cluster is what the head's slurm.conf says.
type Cluster struct {
	Name           string // ClusterName
	Partition      string // the default partition, over every node
	ControllerHost string // the head's short hostname: slurmctld refuses to run elsewhere
	ControllerAddr string // the address workers reach the head at
	Port           int    // SlurmctldPort
	MaxNodes       int    // MaxNodeCount: how many dynamic nodes may join
	StateDir       string // the head's own files (controller state, pid file)
}

var clusterName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)
var partitionName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$`)

// Check reports what is wrong with c, every problem at once.
func (c Cluster) Check() error {
	var errs []error
	if !clusterName.MatchString(c.Name) {
		errs = append(errs, fmt.Errorf("cluster name %q: want lower-case letters, digits, - or _, at most 40, starting with a letter", c.Name))
	}
	if !partitionName.MatchString(c.Partition) {
		errs = append(errs, fmt.Errorf("partition name %q: want letters, digits, ., - or _", c.Partition))
	}
	if !ValidNodeName(c.ControllerHost) {
		errs = append(errs, fmt.Errorf("controller host name %q is not a valid Slurm node name", c.ControllerHost))
	}
	if c.ControllerAddr == "" || strings.ContainsAny(c.ControllerAddr, " ()=,") {
		errs = append(errs, fmt.Errorf("controller address %q: want a host name or IP address", c.ControllerAddr))
	}
	if c.Port <= 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("controller port %d: out of range", c.Port))
	}
	if c.MaxNodes < 1 || c.MaxNodes > 65000 {
		errs = append(errs, fmt.Errorf("max nodes %d: want 1 to 65000", c.MaxNodes))
	}
	if !filepath.IsAbs(c.StateDir) || strings.ContainsAny(c.StateDir, " \n") {
		errs = append(errs, fmt.Errorf("state directory %q: want an absolute path without spaces", c.StateDir))
	}
	return errors.Join(errs...)
}

// ControllerStateDir is where slurmctld saves its state (dynamic nodes
// included, so they survive a controller restart).
func (c Cluster) ControllerStateDir() string { return filepath.Join(c.StateDir, "ctld") }

// SlurmConf renders slurm.conf.
func SlurmConf(c Cluster) ([]byte, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# slurm.conf written by gpuwd-agent on the Slurm head. It is rewritten at")
	w("# every start: change the agent's GPUWD_SLURM_* settings, not this file.")
	w("# Workers fetch it from slurmctld (configless); no node keeps a copy.")
	w("ClusterName=%s", c.Name)
	w("SlurmctldHost=%s(%s)", c.ControllerHost, c.ControllerAddr)
	w("SlurmctldPort=%d", c.Port)
	w("SlurmdPort=%d", DefaultSlurmdPort)
	w("SlurmctldParameters=enable_configless")
	w("SlurmUser=root")
	w("AuthType=auth/munge")
	w("CredType=cred/munge")
	w("StateSaveLocation=%s", c.ControllerStateDir())
	w("SlurmctldPidFile=%s", filepath.Join(c.StateDir, "slurmctld.pid"))
	w("SlurmdSpoolDir=%s/%%n", SpoolDir)
	w("SlurmdPidFile=%s/slurmd-%%n.pid", SpoolDir)
	w("# No log files: the daemons log to stderr, which the agent folds into its log.")
	w("SlurmctldDebug=info")
	w("SlurmdDebug=info")
	w("MailProg=/bin/true")
	w("")
	w("# Pods cannot create cgroups: track job processes without them.")
	w("ProctrackType=proctrack/linuxproc")
	w("TaskPlugin=task/none")
	w("JobAcctGatherType=jobacct_gather/none")
	w("AccountingStorageType=accounting_storage/none")
	w("JobCompType=jobcomp/none")
	w("MpiDefault=none")
	w("SwitchType=switch/none")
	w("")
	w("# Scheduling: cores, memory and GPUs are consumable.")
	w("SchedulerType=sched/backfill")
	w("SchedulerParameters=batch_sched_delay=0,sched_interval=5")
	w("SelectType=select/cons_tres")
	w("SelectTypeParameters=CR_Core_Memory")
	w("DefMemPerCPU=1024")
	w("GresTypes=gpu")
	w("")
	w("# Dynamic nodes: workers join with slurmd -Z and leave with scontrol delete.")
	w("MaxNodeCount=%d", c.MaxNodes)
	w("TreeWidth=65533")
	w("ReturnToService=2")
	w("SlurmdTimeout=60")
	w("InactiveLimit=0")
	w("KillWait=5")
	w("")
	w("PartitionName=%s Nodes=ALL Default=YES MaxTime=INFINITE State=UP", c.Partition)
	return b.Bytes(), nil
}

// GresConf renders gres.conf: one line that fits every node.
func GresConf() []byte {
	return fmt.Appendf(nil, `# gres.conf written by gpuwd-agent. Each node's agent links its GPUs'
# device files to %[1]s/gpu0, gpu1, … in NVML index order, and the
# unused slots to /dev/null; slurmd counts only the node's Gres=gpu:N.
AutoDetect=off
Name=gpu File=%[1]s/gpu[0-%[2]d]
`, GresDir, GresSlots-1)
}

// CgroupConf renders cgroup.conf for a head whose machine runs systemd or
// not. slurmd initialises a cgroup plugin even with proctrack/linuxproc and
// task/none; on cgroup v2 without systemd it needs IgnoreSystemd=yes, which
// the v1 plugin ignores. The plugin is autodetected on each node.
func CgroupConf(systemd bool) []byte {
	var b bytes.Buffer
	b.WriteString("# cgroup.conf written by gpuwd-agent. Nothing is constrained (pods cannot\n")
	b.WriteString("# create cgroups); slurmd still needs a cgroup plugin that can start here.\n")
	b.WriteString("CgroupPlugin=autodetect\n")
	if !systemd {
		b.WriteString("# No systemd on the head: do not ask it for cgroups (cgroup v2).\n")
		b.WriteString("IgnoreSystemd=yes\n")
	}
	b.WriteString("ConstrainCores=no\nConstrainDevices=no\nConstrainRAMSpace=no\nConstrainSwapSpace=no\n")
	return b.Bytes()
}

// Node is what a compute node offers Slurm.
type Node struct {
	GPUs       int
	RealMemMiB int64 // 0: let slurmd measure it
	CPUs       int   // 0: let slurmd count them
	Features   []string
}

var nodeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidNodeName reports whether s can name a Slurm node.
func ValidNodeName(s string) bool { return nodeName.MatchString(s) }

var featureName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// SlurmdConf is the --conf argument of a dynamic slurmd: the node's GPUs,
// memory, CPUs and features.
func SlurmdConf(n Node) (string, error) {
	var parts []string
	if n.GPUs > 0 {
		parts = append(parts, "Gres=gpu:"+strconv.Itoa(min(n.GPUs, GresSlots)))
	}
	if n.CPUs > 0 {
		parts = append(parts, "CPUs="+strconv.Itoa(n.CPUs))
	}
	if n.RealMemMiB > 0 {
		parts = append(parts, "RealMemory="+strconv.FormatInt(n.RealMemMiB, 10))
	}
	var features []string
	seen := map[string]bool{}
	for _, f := range n.Features {
		if f = strings.TrimSpace(f); f == "" || seen[f] {
			continue
		}
		if !featureName.MatchString(f) {
			return "", fmt.Errorf("node feature %q: want letters, digits, ., - or _", f)
		}
		seen[f] = true
		features = append(features, f)
	}
	if len(features) > 0 {
		parts = append(parts, "Feature="+strings.Join(features, ","))
	}
	return strings.Join(parts, " "), nil
}

// SplitHostPort reads "host[:port]" with a default port.
func SplitHostPort(s string, defaultPort int) (host string, port int, err error) {
	if s == "" {
		return "", 0, errors.New("empty address")
	}
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		// No port (or a bare IPv6 address).
		if strings.Count(s, ":") > 1 || !strings.Contains(s, ":") {
			return strings.Trim(s, "[]"), defaultPort, nil
		}
		return "", 0, fmt.Errorf("%q: %w", s, err)
	}
	port, err = strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q: bad port %q", s, p)
	}
	if h == "" {
		return "", 0, fmt.Errorf("%q: no host", s)
	}
	return h, port, nil
}

// ModelFeature turns an NVML product name into a short node feature:
// "NVIDIA H100 80GB HBM3" → "h100", "NVIDIA A100-SXM4-80GB" → "a100",
// "NVIDIA GeForce RTX 4090" → "rtx4090", "NVIDIA L40S" → "l40s".
func ModelFeature(name string) string {
	var out []string
	for i, tok := range strings.Fields(name) {
		t := strings.ToLower(tok)
		if i == 0 && t == "nvidia" || t == "geforce" || t == "tesla" || t == "quadro" {
			continue
		}
		t, _, cut := strings.Cut(t, "-")
		if isSpecToken(t) {
			break
		}
		out = append(out, t)
		if cut {
			break // "a100-sxm4-80gb": the rest is form factor and memory
		}
	}
	f := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, strings.Join(out, ""))
	if f == "" {
		return "gpu"
	}
	return f
}

// isSpecToken reports tokens that describe memory or packaging rather than
// the model: "80gb", "hbm3", "sxm5", "pcie", "nvl", "generation".
func isSpecToken(t string) bool {
	for _, p := range []string{"hbm", "sxm", "pcie", "nvl", "generation", "mig"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return strings.HasSuffix(t, "gb") && len(t) > 2 && t[0] >= '0' && t[0] <= '9'
}
