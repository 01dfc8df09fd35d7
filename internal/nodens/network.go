package nodens

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// PrivateDirs are the directories every node gets its own copy of.
var PrivateDirs = []string{"/run/munge", "/run/slurm", "/run/gpuwd", "/var/lib/gpuwd"}

// Tools are the programs a Network needs besides Slurm's.
var Tools = []string{"ip", "nsenter", "unshare", "mount"}

// maxNodes is how many nodes a network holds at once (.11 to .254).
const maxNodes = 244

var networks atomic.Int32

// Network is a bridge in the host's namespace with one namespace per node.
type Network struct {
	id      string // keeps names apart between networks and runs
	bridge  string
	prefix  string // "10.201.7." — the bridge is .1, nodes .11 on
	mu      sync.Mutex
	used    map[int]*Node // by index: the IP's last octet is 10+index
	cleanup []func()      // undoes New, last first
	closed  bool
}

// New makes the bridge on a /24 that no interface of the host uses.
func New() (*Network, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("network namespaces need root")
	}
	for _, p := range Tools {
		if _, err := exec.LookPath(p); err != nil {
			return nil, fmt.Errorf("%s not found: %w", p, err)
		}
	}
	seq := int(networks.Add(1))
	pid := os.Getpid()
	n := &Network{id: strconv.Itoa(pid%10000) + "n" + strconv.Itoa(seq%100), used: map[int]*Node{}}
	n.bridge = "gwdbr" + n.id
	for try := range 250 {
		n.prefix = fmt.Sprintf("10.%d.%d.", 200+pid%50, (pid/50+seq+try)%250)
		if !subnetInUse(n.prefix) {
			break
		}
	}
	if err := n.setUp(); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Network) setUp() error {
	if err := run("ip", "link", "add", n.bridge, "type", "bridge"); err != nil {
		return err
	}
	n.cleanup = append(n.cleanup, func() { _ = exec.Command("ip", "link", "del", n.bridge).Run() })
	// Docker's FORWARD policy is DROP, and bridged packets pass through it
	// when br_netfilter is loaded: let the nodes talk to each other.
	for _, ipt := range []string{"iptables", "iptables-legacy"} {
		rule := []string{"FORWARD", "-i", n.bridge, "-o", n.bridge, "-j", "ACCEPT"}
		if exec.Command(ipt, append([]string{"-I"}, rule...)...).Run() == nil {
			n.cleanup = append(n.cleanup, func() { _ = exec.Command(ipt, append([]string{"-D"}, rule...)...).Run() })
		}
	}
	if err := run("ip", "addr", "add", n.HostIP()+"/24", "dev", n.bridge); err != nil {
		return err
	}
	if err := run("ip", "link", "set", n.bridge, "up"); err != nil {
		return err
	}
	for _, d := range PrivateDirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// subnetInUse reports whether an interface of the host has an address in
// prefix (a /24 like "10.201.7.").
func subnetInUse(prefix string) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && strings.HasPrefix(ipn.IP.String(), prefix) {
			return true
		}
	}
	return false
}

// HostIP is the bridge's address in the host's namespace: nodes reach the
// host (an aggregator, say) there.
func (n *Network) HostIP() string { return n.prefix + "1" }

// Bridge is the bridge's interface name.
func (n *Network) Bridge() string { return n.bridge }

// Close removes every node left, the bridge and its firewall rules. The
// programs running in the nodes should have been stopped first.
func (n *Network) Close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	nodes := make([]*Node, 0, len(n.used))
	for _, node := range n.used {
		nodes = append(nodes, node)
	}
	n.mu.Unlock()
	for _, node := range nodes {
		node.Close()
	}
	for i := len(n.cleanup) - 1; i >= 0; i-- {
		n.cleanup[i]()
	}
}

func run(prog string, args ...string) error {
	if out, err := exec.Command(prog, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", prog, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
