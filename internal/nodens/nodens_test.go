package nodens

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

func newNetwork(t *testing.T) *Network {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, "network namespaces need root")
	}
	for _, p := range append(slices.Clone(Tools), "bash") {
		if _, err := exec.LookPath(p); err != nil {
			testenv.Missing(t, p+" not found")
		}
	}
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n
}

func TestANodeIsAMachineOfItsOwn(t *testing.T) {
	n := newNetwork(t)
	node, err := n.Node("alpha", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", n.HostIP()+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	heard := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		line, _ := bufio.NewReader(c).ReadString('\n')
		heard <- line
	}()
	script := `hostname; echo private > /run/gpuwd/mark; echo "hi from $(hostname)" > /dev/tcp/` +
		n.HostIP() + "/" + portOf(ln) + `; ip -o -4 addr show eth0`
	out, err := node.Command("bash", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.HasPrefix(string(out), "alpha\n") || !strings.Contains(string(out), node.IP+"/24") {
		t.Errorf("in the node:\n%s", out)
	}
	if got := <-heard; got != "hi from alpha\n" {
		t.Errorf("the host heard %q", got)
	}
	if b, err := os.ReadFile(filepath.Join(node.Dir, "run/gpuwd/mark")); err != nil || string(b) != "private\n" {
		t.Errorf("the node's /run/gpuwd is not its Dir/run/gpuwd: %q %v", b, err)
	}
	if _, err := os.Stat("/run/gpuwd/mark"); err == nil {
		t.Errorf("the node wrote the host's /run/gpuwd")
	}
}

func TestDrainEmptiesANodeAndCloseRemovesIt(t *testing.T) {
	n := newNetwork(t)
	node, err := n.Node("beta", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cmd := node.Command("bash", "-c", "sleep 100 & echo started; wait")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_, _ = bufio.NewReader(out).ReadString('\n')
	ns := MountNamespace(cmd.Process.Pid)
	procs := ProcessesIn(ns)
	if len(procs) != 2 {
		t.Errorf("processes in the node: %v, want bash and sleep", procs)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	Drain(ns, 100*time.Millisecond) // sleep outlives bash: killed
	if left := ProcessesIn(ns); len(left) != 0 {
		t.Errorf("left after Drain: %v", left)
	}

	ip := node.IP
	node.Close()
	if exec.Command("ip", "netns", "exec", node.netns, "true").Run() == nil {
		t.Errorf("namespace %s left after Close", node.netns)
	}
	again, err := n.Node("gamma", t.TempDir())
	if err != nil || again.IP != ip {
		t.Errorf("a new node after Close: %v, %v; want address %s again", again, err, ip)
	}
	n.Close()
	if exec.Command("ip", "link", "show", n.Bridge()).Run() == nil {
		t.Errorf("bridge %s left after Close", n.Bridge())
	}
	if _, err := n.Node("late", t.TempDir()); err == nil {
		t.Errorf("Node on a closed network")
	}
}

func TestFakeGPUs(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "mknod needs root")
	}
	dir := filepath.Join(t.TempDir(), "dev")
	for range 2 { // a second time keeps what is there
		if err := FakeGPUs(dir, 3); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 || entries[2].Name() != "nvidia2" || entries[2].Type()&os.ModeCharDevice == 0 {
		t.Errorf("devices: %v", entries)
	}
}

func portOf(ln net.Listener) string {
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
