// Package slurmtest starts machines for tests that run a real Slurm: each
// node is a namespace of package nodens, with its own network, hostname and
// private /run/munge, /run/slurm, /run/gpuwd and /var/lib/gpuwd, so several
// agents on one host behave like pods, each running its own munged and
// slurmd on the usual ports and paths. This package ties nodens to a test:
// failures end it, and everything made is removed by its cleanup. It needs
// root, ip(8), nsenter and unshare.
package slurmtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/nodens"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// PrivateDirs are the directories every node gets its own copy of.
var PrivateDirs = nodens.PrivateDirs

// Require ends the test unless this machine can run a Slurm cluster: root,
// the namespace tools, and Slurm itself (make test installs it).
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, "Slurm cluster tests need root (network namespaces, mounts)")
	}
	for _, p := range append(slices.Clone(nodens.Tools), "slurmctld", "slurmd", "sinfo", "munged") {
		if _, err := exec.LookPath(p); err != nil {
			testenv.Missing(t, p+" not found (make test installs slurmctld, slurmd, slurm-client and munge)")
		}
	}
}

// Network is a bridge in the host's namespace with one namespace per node.
type Network struct {
	t   testing.TB
	net *nodens.Network
}

// NewNetwork makes the bridge; cleanup removes it with every node.
func NewNetwork(t testing.TB) *Network {
	t.Helper()
	Require(t)
	n, err := nodens.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return &Network{t: t, net: n}
}

// HostIP is the bridge's address in the host's namespace: nodes reach the
// test (an aggregator, say) there.
func (n *Network) HostIP() string { return n.net.HostIP() }

// Node is one machine: a network namespace, a hostname, private directories.
type Node struct {
	Name string
	IP   string
	Dir  string // the node's own files; Dir/<private dir> is bound on it
	node *nodens.Node
}

// Node adds a machine named name (also its hostname and Slurm node name).
func (n *Network) Node(name string) *Node {
	t := n.t
	t.Helper()
	node, err := n.net.Node(name, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Close)
	return &Node{Name: name, IP: node.IP, Dir: node.Dir, node: node}
}

// Command runs prog inside the node: its network, hostname and private
// directories. The returned command's process is prog itself (every
// wrapper execs in place), so signalling it signals prog.
func (node *Node) Command(prog string, args ...string) *exec.Cmd {
	return node.node.Command(prog, args...)
}

// FakeGPUs makes n device files nvidia0… in a new directory, standing in
// for the GPUs (clones of /dev/null: Slurm only stats them).
func FakeGPUs(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	if err := nodens.FakeGPUs(dir, n); err != nil {
		t.Fatal(err)
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
		nodens.Drain(ns, 10*time.Second)
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
	cmd := nodens.Enter(ctx, p.Pid(), "env", append(append(env, prog), args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", prog, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// MountNamespace is the mount namespace p runs in ("mnt:[4026…]").
func (p *Process) MountNamespace() string { return nodens.MountNamespace(p.Pid()) }

// ProcessesIn lists the processes (pid → name) in mount namespace ns.
func ProcessesIn(ns string) map[int]string { return nodens.ProcessesIn(ns) }

// ChildPID is the pid of the child of parent named comm (0: none), such as
// the slurmctld an agent started.
func ChildPID(parent int, comm string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || s[strings.IndexByte(s, '(')+1:i] != comm {
			continue
		}
		if f := strings.Fields(s[i+1:]); len(f) > 1 && f[1] == strconv.Itoa(parent) {
			return pid
		}
	}
	return 0
}
