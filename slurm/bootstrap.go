package slurm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/conf"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/munge"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/supervise"
)

// Bringing a node up: what it needs installed, its key, its GPUs for Slurm,
// then munged, slurmctld on a head and slurmd on a compute node, each
// waited for before the next starts.
// programsNeeded lists what each role runs.
func (n *Node) programsNeeded() []string {
	need := []string{"munged", "scontrol", "sinfo", "squeue"}
	if n.opts.Role == RoleHead {
		need = append(need, "slurmctld")
	}
	if n.compute {
		need = append(need, "slurmd")
	}
	return need
}

// findPrograms looks the programs up on PATH, then in the sbin directories
// a non-root PATH may lack.
func (n *Node) findPrograms() error {
	n.programs = map[string]string{}
	var missing []string
	for _, p := range append(n.programsNeeded(), "sdiag") {
		path, err := exec.LookPath(p)
		if err != nil {
			for _, dir := range sbinDirs {
				if st, err := os.Stat(filepath.Join(dir, p)); err == nil && st.Mode()&0o111 != 0 {
					path = filepath.Join(dir, p)
					break
				}
			}
		}
		if path != "" {
			n.programs[p] = path
		} else if p != "sdiag" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("slurm is not installed: %s not found (install Debian's slurmctld, slurmd, slurm-client and munge)",
			strings.Join(missing, ", "))
	}
	return nil
}

// sbinDirs hold the daemons where PATH lacks them (a non-root PATH).
var sbinDirs = []string{"/usr/sbin", "/usr/local/sbin", "/sbin"}

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)\.\d+`)

// checkVersion refuses Slurm before 22.05, which has no dynamic nodes.
func (n *Node) checkVersion(ctx context.Context) error {
	// The daemons print their version without reading a configuration
	// (clients wait a minute for one that is not there yet).
	prog := "slurmd"
	if n.opts.Role == RoleHead {
		prog = "slurmctld"
	}
	ctx, cancel := context.WithTimeout(ctx, n.opts.CommandTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, n.programs[prog], "-V").Output()
	if err != nil {
		return fmt.Errorf("slurm version: %s -V: %w", prog, err)
	}
	m := versionRE.FindStringSubmatch(string(out))
	if m == nil {
		return fmt.Errorf("slurm version: cannot read %q", strings.TrimSpace(string(out)))
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major < 22 || major == 22 && minor < 5 {
		return fmt.Errorf("slurm %s.%s is too old: dynamic nodes need 22.05 or newer", m[1], m[2])
	}
	return nil
}

// clientEnv is the environment of Slurm commands run on this node: the
// head reads its own slurm.conf; a configless node the copy slurmd fetched,
// which slurmd links to /run/slurm/conf.
func (n *Node) clientEnv() []string {
	return append(daemonEnv(), "SLURM_CONF="+n.clientConf())
}

// configlessConf is where slurmd links the slurm.conf it fetched.
const configlessConf = "/run/slurm/conf/slurm.conf"

// clientConf is the slurm.conf the Slurm commands on this node read.
func (n *Node) clientConf() string {
	if n.opts.Role == RoleHead {
		return filepath.Join(n.opts.confDir(), "slurm.conf")
	}
	return configlessConf
}

// daemonEnv is the environment of the daemons: no SLURM_CONF (a configless
// slurmd must not read a local file) and none of the agent's secrets.
func daemonEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLURM_") && !strings.HasPrefix(kv, "GPUWD_") {
			env = append(env, kv)
		}
	}
	return env
}

// bootstrap brings the node up: munged, then slurmctld on a head, then
// slurmd on a compute node, and waits until the node has joined.
func (n *Node) bootstrap(ctx context.Context) error {
	if os.Geteuid() != 0 {
		return errors.New("the Slurm daemons need root: run gpuwd-agent as root for --slurm-role (RunPod pods do)")
	}
	if err := n.findPrograms(); err != nil {
		return err
	}
	n.runner = &execRunner{env: n.clientEnv(), timeout: n.opts.CommandTimeout, paths: n.programs}
	if err := n.checkVersion(ctx); err != nil {
		return err
	}
	key, err := n.mungeKey()
	if err != nil {
		return err
	}
	if err := munge.WriteKeyFile(n.opts.keyPath(), key); err != nil {
		return fmt.Errorf("writing the munge key: %w", err)
	}
	if n.compute {
		if err := n.prepareCompute(); err != nil {
			return err
		}
	}
	if err := n.startMunged(ctx); err != nil {
		return err
	}
	ctrlHost, ctrlPort, err := n.controller(ctx)
	if err != nil {
		return err
	}
	if n.opts.Role == RoleHead {
		if err := n.startController(ctx, ctrlHost, ctrlPort); err != nil {
			return err
		}
	}
	if n.compute {
		if err := n.startSlurmd(ctx, net.JoinHostPort(ctrlHost, strconv.Itoa(ctrlPort))); err != nil {
			return err
		}
		return n.waitJoined(ctx)
	}
	n.setStatus("")
	return nil
}

// mungeKey is the configured key; a head given none reuses the one it
// generated before, or generates one and says how workers get it.
func (n *Node) mungeKey() (munge.Key, error) {
	switch {
	case n.opts.MungeKey != "":
		return munge.ParseKey(n.opts.MungeKey)
	case n.opts.MungeKeyFile != "":
		return munge.ReadKeyFile(n.opts.MungeKeyFile)
	}
	path := n.opts.keyPath()
	if k, err := munge.ReadKeyFile(path); err == nil {
		n.logger.Info("using the munge key generated earlier", "file", path)
		return k, nil
	}
	k := munge.GenerateKey()
	n.logger.Warn("no munge key given: generated one; workers need the same key",
		"file", path, "pass_on", "GPUWD_MUNGE_KEY=$(base64 -w0 "+path+")")
	return k, nil
}

// prepareCompute checks that slurmd can start here and links the GPUs.
func (n *Node) prepareCompute() error {
	if layout := n.host.DetectCgroups(); layout.Problem != "" {
		return fmt.Errorf("slurmd cannot start on this node: %s", layout.Problem)
	}
	devices := make([]string, len(n.gpus))
	for i, g := range n.gpus {
		if g.Index != i {
			return fmt.Errorf("GPU list out of order: GPU %d at position %d", g.Index, i)
		}
		devices[i] = filepath.Join(n.opts.DeviceDir, g.DeviceFile)
	}
	if err := conf.LinkGPUs(conf.GresDir, devices); err != nil {
		return fmt.Errorf("GPUs for Slurm: %w (--slurm-device-dir is %s)", err, n.opts.DeviceDir)
	}
	return os.MkdirAll(filepath.Join(conf.SpoolDir, n.name), 0o755)
}

func (n *Node) start(name string, args ...string) (*supervise.Daemon, error) {
	return supervise.Start(supervise.Spec{Name: name, Path: n.programs[name], Args: args, Env: daemonEnv()},
		n.logger, n.daemons)
}

// startMunged starts munged on the default socket and waits until it answers.
func (n *Node) startMunged(ctx context.Context) error {
	dir := filepath.Dir(conf.MungeSocket)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("munge socket directory: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("munge socket directory: %w", err)
	}
	state := filepath.Dir(n.opts.keyPath())
	d, err := n.start("munged", "--foreground", "--force",
		"--socket="+conf.MungeSocket, "--key-file="+n.opts.keyPath(),
		"--pid-file="+filepath.Join(state, "munged.pid"), "--seed-file="+filepath.Join(state, "munged.seed"),
		"--log-file="+filepath.Join(state, "munged.log"))
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.munged = d
	n.mu.Unlock()
	return waitFor(ctx, 10*time.Second, "munged to listen on "+conf.MungeSocket, func() error {
		if !d.Running() {
			return fmt.Errorf("munged exited: %v", d.LastExit())
		}
		c, err := net.DialTimeout("unix", conf.MungeSocket, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
}

// startController writes the configuration and starts slurmctld.
func (n *Node) startController(ctx context.Context, addr string, port int) error {
	ctrlHost, _, _ := strings.Cut(n.hostname, ".")
	cluster := conf.Cluster{Name: n.opts.ClusterName, Partition: n.opts.Partition, ControllerHost: ctrlHost,
		ControllerAddr: addr, Port: port, MaxNodes: n.opts.MaxNodes, StateDir: n.opts.StateDir}
	slurmConf, err := conf.SlurmConf(cluster)
	if err != nil {
		return err
	}
	dir := n.opts.confDir()
	files := map[string][]byte{"slurm.conf": slurmConf, "gres.conf": conf.GresConf(),
		"cgroup.conf": conf.CgroupConf(n.host.HasSystemd())}
	if err := os.MkdirAll(cluster.ControllerStateDir(), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range files {
		if err := writeFileAtomic(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	d, err := n.start("slurmctld", "-D", "-f", filepath.Join(dir, "slurm.conf"))
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.ctld = d
	n.mu.Unlock()
	n.setStatus("waiting for slurmctld")
	local := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return waitFor(ctx, time.Minute, "slurmctld to listen on port "+strconv.Itoa(port), func() error {
		if !d.Running() {
			return fmt.Errorf("slurmctld exited: %v", d.LastExit())
		}
		c, err := net.DialTimeout("tcp", local, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
}

// startSlurmd waits until the controller can be reached, then starts a
// dynamic, configless slurmd.
func (n *Node) startSlurmd(ctx context.Context, server string) error {
	if err := n.waitController(ctx, server); err != nil {
		return err
	}
	features := []string{}
	if len(n.gpus) > 0 {
		features = append(features, conf.ModelFeature(n.gpus[0].Model))
	}
	features = append(features, strings.Split(n.opts.Features, ",")...)
	mem, err := n.host.MemoryMiB()
	if err != nil {
		n.logger.Warn("cannot read this node's memory; slurmd will measure it", "err", err)
	}
	nodeConf, err := conf.SlurmdConf(conf.Node{GPUs: len(n.gpus), RealMemMiB: mem,
		CPUs: n.host.CPUs(onlineCPUs()), Features: features})
	if err != nil {
		return err
	}
	d, err := n.start("slurmd", "-D", "-Z", "-N", n.name, "--conf-server", server, "--conf", nodeConf)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.slurmd, n.confServer = d, server
	n.mu.Unlock()
	n.logger.Info("slurmd started: joining the cluster", "node", n.name, "conf_server", server, "conf", nodeConf)
	return nil
}

// waitController retries until the controller accepts a connection. The
// first failure is logged as an error with what to check; later ones are
// not, until it answers.
func (n *Node) waitController(ctx context.Context, server string) error {
	backoff := 200 * time.Millisecond
	for logged := false; ; {
		c, err := net.DialTimeout("tcp", server, 2*time.Second)
		if err == nil {
			c.Close()
			if logged {
				n.logger.Info("the Slurm controller answers now", "conf_server", server)
			}
			return nil
		}
		msg := fmt.Sprintf("cannot reach the Slurm controller at %s (--slurm-conf-server): %v", server, err)
		n.setStatus(msg)
		if !logged {
			n.logger.Error(msg+"; retrying; GPU metrics are still served", "conf_server", server)
			logged = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// waitJoined polls the controller until it lists this node as usable.
func (n *Node) waitJoined(ctx context.Context) error {
	n.setStatus("waiting to join the cluster as " + n.name)
	start := time.Now()
	delay := 50 * time.Millisecond
	warned := false
	for {
		state, reason, err := n.nodeState(ctx)
		switch {
		case errors.Is(err, errNoConf):
			// slurmd has not fetched its configuration yet: poll the file
			// rather than the controller.
			delay = 20 * time.Millisecond
		case err == nil && usable(state):
			n.mu.Lock()
			n.joined, n.status = true, ""
			n.mu.Unlock()
			n.logger.Info("joined the Slurm cluster", "node", n.name, "state", state, "took", time.Since(start).Round(time.Millisecond))
			return nil
		case err == nil && strings.HasPrefix(state, "drain") && strings.HasPrefix(reason, leaveReason):
			// An earlier agent began leaving and was cut off: take the node back.
			_, _ = n.runner.Run(ctx, "scontrol", "update", "NodeName="+n.name, "State=RESUME")
		case err == nil && time.Since(start) > 30*time.Second && !warned:
			n.logger.Warn("the node has not become usable", "node", n.name, "state", state, "reason", reason)
			warned = true
		}
		if err == nil {
			n.setStatus(strings.TrimSpace(fmt.Sprintf("node %s is %s in Slurm %s", n.name, state, reason)))
		} else {
			n.setStatus(fmt.Sprintf("waiting to join the cluster as %s: %v", n.name, err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// nodeState asks the controller for this node's state and reason.
func (n *Node) nodeState(ctx context.Context) (state, reason string, err error) {
	// Without its slurm.conf, sinfo spends a second looking for one before
	// it fails.
	if _, err := os.Stat(n.clientConf()); err != nil {
		return "", "", fmt.Errorf("%w: %v", errNoConf, err)
	}
	out, err := n.runner.Run(ctx, "sinfo", "-h", "-N", "-n", n.name, "-o", "%T|%E")
	if err != nil {
		return "", "", err
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if line == "" {
		return "", "", fmt.Errorf("node %s is %w", n.name, errNotInCluster)
	}
	state, reason, _ = strings.Cut(line, "|")
	if reason == "none" {
		reason = ""
	}
	return state, reason, nil
}

// errNoConf: the node has no slurm.conf yet.
var errNoConf = errors.New("slurmd has not fetched the configuration yet")

// errNotInCluster: the controller answers, and does not list the node.
var errNotInCluster = errors.New("not in the cluster")

// usable reports whether an sinfo long state means the node takes jobs.
func usable(state string) bool {
	switch state {
	case "idle", "mixed", "allocated", "completing":
		return true
	}
	return false
}

// waitFor polls check until it succeeds, ctx ends or limit passes.
func waitFor(ctx context.Context, limit time.Duration, what string, check func() error) error {
	deadline := time.Now().Add(limit)
	delay := 10 * time.Millisecond
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %v for %s: %w", limit, what, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
