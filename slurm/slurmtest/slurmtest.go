// Package slurmtest starts machines for tests that run a real Slurm: each
// node is a network namespace on a bridge of its own, with its own hostname
// and mount namespace, in which the per-node directories Slurm and the agent
// use (/run/munge, /run/slurm, /run/gpuwd, /var/lib/gpuwd) are private. So
// several agents on one host behave like pods: each runs its own munged and
// slurmd on the usual ports and paths. Everything made is removed by the
// test's cleanup. It needs root, ip(8), nsenter and unshare.
package slurmtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// PrivateDirs are the directories every node gets its own copy of.
var PrivateDirs = []string{"/run/munge", "/run/slurm", "/run/gpuwd", "/var/lib/gpuwd"}

// Require ends the test unless this machine can run a Slurm cluster: root,
// the namespace tools, and Slurm itself (make test installs it).
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, "Slurm cluster tests need root (network namespaces, mounts)")
	}
	for _, p := range []string{"ip", "nsenter", "unshare", "mount", "slurmctld", "slurmd", "sinfo", "munged"} {
		if _, err := exec.LookPath(p); err != nil {
			testenv.Missing(t, p+" not found (make test installs slurmctld, slurmd, slurm-client and munge)")
		}
	}
}

var networks atomic.Int32

// Network is a bridge in the host's namespace with one namespace per node.
type Network struct {
	t      testing.TB
	id     string // keeps names apart between test runs
	bridge string
	prefix string // "10.201.7." — the bridge is .1, nodes .11 on
	mu     sync.Mutex
	nodes  int
}

// NewNetwork makes the bridge; cleanup removes it with every node.
func NewNetwork(t testing.TB) *Network {
	t.Helper()
	Require(t)
	seq := int(networks.Add(1))
	pid := os.Getpid()
	n := &Network{t: t, id: strconv.Itoa(pid%10000) + "n" + strconv.Itoa(seq%100),
		prefix: fmt.Sprintf("10.%d.%d.", 200+pid%50, (pid/50+seq)%250)}
	n.bridge = "gwdbr" + n.id
	run(t, "ip", "link", "add", n.bridge, "type", "bridge")
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", n.bridge).Run() })
	// Docker's FORWARD policy is DROP, and bridged packets pass through it
	// when br_netfilter is loaded: let the nodes talk to each other.
	for _, ipt := range []string{"iptables", "iptables-legacy"} {
		rule := []string{"FORWARD", "-i", n.bridge, "-o", n.bridge, "-j", "ACCEPT"}
		if exec.Command(ipt, append([]string{"-I"}, rule...)...).Run() == nil {
			t.Cleanup(func() { _ = exec.Command(ipt, append([]string{"-D"}, rule...)...).Run() })
		}
	}
	run(t, "ip", "addr", "add", n.prefix+"1/24", "dev", n.bridge)
	run(t, "ip", "link", "set", n.bridge, "up")
	for _, d := range PrivateDirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// HostIP is the bridge's address in the host's namespace: nodes reach the
// test (an aggregator, say) there.
func (n *Network) HostIP() string { return n.prefix + "1" }

// Node is one machine: a network namespace, a hostname, private directories.
type Node struct {
	Name  string
	IP    string
	Dir   string // the node's own files; Dir/<private dir> is bound on it
	netns string
	net   *Network
}

// Node adds a machine named name (also its hostname and Slurm node name).
func (n *Network) Node(name string) *Node {
	t := n.t
	t.Helper()
	n.mu.Lock()
	n.nodes++
	i := n.nodes
	n.mu.Unlock()
	node := &Node{Name: name, IP: n.prefix + strconv.Itoa(10+i), Dir: t.TempDir(), net: n}
	ns := "gwd" + n.id + "-" + strconv.Itoa(i)
	veth := "gwv" + n.id + "x" + strconv.Itoa(i)
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	node.netns = "/run/netns/" + ns
	run(t, "ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
	run(t, "ip", "link", "set", veth, "master", n.bridge, "up")
	run(t, "ip", "-n", ns, "addr", "add", node.IP+"/24", "dev", "eth0")
	run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	run(t, "ip", "-n", ns, "link", "set", "eth0", "up")
	for _, d := range PrivateDirs {
		if err := os.MkdirAll(filepath.Join(node.Dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return node
}

// Command runs prog inside the node: its network, hostname and private
// directories. The returned command's process is prog itself (every
// wrapper execs in place), so signalling it signals prog.
func (node *Node) Command(prog string, args ...string) *exec.Cmd {
	var script strings.Builder
	script.WriteString("hostname " + node.Name)
	for _, d := range PrivateDirs {
		fmt.Fprintf(&script, " && mount --bind %s %s", filepath.Join(node.Dir, d), d)
	}
	script.WriteString(` && exec "$@"`)
	all := append([]string{"--net=" + node.netns, "unshare", "--uts", "--mount", "--propagation", "private",
		"sh", "-c", script.String(), "sh", prog}, args...)
	return exec.Command("nsenter", all...)
}

// FakeGPUs makes n device files nvidia0… in a new directory, standing in
// for the GPUs (clones of /dev/null: Slurm only stats them).
func FakeGPUs(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		if err := syscall.Mknod(filepath.Join(dir, "nvidia"+strconv.Itoa(i)), syscall.S_IFCHR|0o666, int(1<<8|3)); err != nil {
			t.Fatalf("mknod: %v", err)
		}
	}
	return dir
}

// Process is a program started in a node, its output kept.
type Process struct {
	Node    *Node
	Started time.Time // when the program was started
	cmd     *exec.Cmd
	done    chan struct{}
	mu      sync.Mutex
	log     strings.Builder
}

// Start starts prog in node; cleanup kills it if it still runs.
func (node *Node) Start(t testing.TB, prog string, args ...string) *Process {
	t.Helper()
	p := &Process{Node: node, cmd: node.Command(prog, args...), done: make(chan struct{})}
	out, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = p.cmd.Stderr
	p.Started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
		_ = p.cmd.Wait()
	}()
	t.Cleanup(func() {
		// The daemons die with the program (parent-death signal) but take
		// a moment to save state: wait for the whole namespace to empty
		// before the node's directories are removed.
		ns := p.MountNamespace()
		p.Signal(syscall.SIGKILL)
		<-p.done
		deadline := time.Now().Add(10 * time.Second)
		for left := ProcessesIn(ns); ns != "" && len(left) > 0; left = ProcessesIn(ns) {
			if time.Now().After(deadline) {
				for pid := range left {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		if t.Failed() || os.Getenv("SHOWLOGS") != "" {
			t.Logf("%s on %s:\n%s", filepath.Base(prog), node.Name, p.Log())
		}
	})
	return p
}

// Pid is the program's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the program.
func (p *Process) Signal(sig syscall.Signal) { _ = p.cmd.Process.Signal(sig) }

// Wait waits for the program to exit, at most limit.
func (p *Process) Wait(limit time.Duration) error {
	select {
	case <-p.done:
		if st := p.cmd.ProcessState; st != nil && !st.Success() {
			return fmt.Errorf("exited: %v", st)
		}
		return nil
	case <-time.After(limit):
		return fmt.Errorf("still running after %v", limit)
	}
}

// Log is everything the program printed.
func (p *Process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// LogRecords parses the program's JSON log lines.
func (p *Process) LogRecords() []map[string]any {
	var recs []map[string]any
	for line := range strings.Lines(p.Log()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			recs = append(recs, rec)
		}
	}
	return recs
}

// Exec runs prog in the namespaces of the running process p (network,
// hostname, mounts), e.g. sinfo on the head, with a deadline.
func (p *Process) Exec(ctx context.Context, env []string, prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	all := append([]string{"-t", strconv.Itoa(p.Pid()), "-n", "-u", "-m", "--", "env"}, env...)
	all = append(all, prog)
	cmd := exec.CommandContext(ctx, "nsenter", append(all, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", prog, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// MountNamespace is the mount namespace p runs in ("mnt:[4026…]").
func (p *Process) MountNamespace() string {
	ns, _ := os.Readlink("/proc/" + strconv.Itoa(p.Pid()) + "/ns/mnt")
	return ns
}

// ProcessesIn lists the processes (pid → name) in mount namespace ns.
func ProcessesIn(ns string) map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if got, _ := os.Readlink("/proc/" + e.Name() + "/ns/mnt"); got != ns {
			continue
		}
		comm, _ := os.ReadFile("/proc/" + e.Name() + "/comm")
		out[pid] = strings.TrimSpace(string(comm))
	}
	return out
}

func run(t testing.TB, prog string, args ...string) {
	t.Helper()
	if out, err := exec.Command(prog, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", prog, strings.Join(args, " "), err, out)
	}
}
