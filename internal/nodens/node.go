package nodens

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Node is one machine: a network namespace, a hostname, private directories.
type Node struct {
	Name  string
	IP    string
	Dir   string // the node's own files; Dir/<private dir> is bound on it
	netns string // "gwd<id>-<index>", under /run/netns
	index int
	net   *Network
	once  sync.Once
}

// Node adds a machine named name (also its hostname and Slurm node name)
// whose private directories live under dir, which is kept: a node made
// again over the same dir finds its files.
func (n *Network) Node(name, dir string) (*Node, error) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil, errors.New("network closed")
	}
	i := 1
	for ; i <= maxNodes && n.used[i] != nil; i++ {
	}
	if i > maxNodes {
		n.mu.Unlock()
		return nil, fmt.Errorf("network %s is full (%d nodes)", n.bridge, maxNodes)
	}
	node := &Node{Name: name, IP: n.prefix + strconv.Itoa(10+i), Dir: dir, index: i, net: n,
		netns: "gwd" + n.id + "-" + strconv.Itoa(i)}
	n.used[i] = node
	n.mu.Unlock()
	if err := node.setUp(); err != nil {
		node.Close()
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	return node, nil
}

func (node *Node) setUp() error {
	ns, veth := node.netns, "gwv"+node.net.id+"x"+strconv.Itoa(node.index)
	_ = exec.Command("ip", "netns", "del", ns).Run() // left by a crashed run
	steps := [][]string{
		{"netns", "add", ns},
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"link", "set", veth, "master", node.net.bridge, "up"},
		{"-n", ns, "addr", "add", node.IP + "/24", "dev", "eth0"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "link", "set", "eth0", "up"},
	}
	for _, args := range steps {
		if err := run("ip", args...); err != nil {
			return err
		}
	}
	for _, d := range PrivateDirs {
		if err := os.MkdirAll(filepath.Join(node.Dir, d), 0o755); err != nil {
			return err
		}
	}
	return nil
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
	all := append([]string{"--net=/run/netns/" + node.netns, "unshare", "--uts", "--mount", "--propagation", "private",
		"sh", "-c", script.String(), "sh", prog}, args...)
	return exec.Command("nsenter", all...)
}

// Close removes the node's namespace (and with it its link to the bridge);
// its directory stays. Programs still running in it lose their network.
func (node *Node) Close() {
	node.once.Do(func() {
		_ = exec.Command("ip", "netns", "del", node.netns).Run()
		node.net.mu.Lock()
		delete(node.net.used, node.index)
		node.net.mu.Unlock()
	})
}
