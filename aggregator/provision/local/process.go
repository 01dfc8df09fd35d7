package local

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
	"github.com/gpu-watchdog/gpu-watchdog/internal/nodens"
)

// agentPort is where agents listen inside their namespaces.
const agentPort = "9400"

// tailLines is how many of a failed agent's last log lines its pod's
// Message carries.
const tailLines = 8

// process is one run of a pod's agent.
type process struct {
	cmd      *exec.Cmd
	node     *nodens.Node  // nil without namespaces
	done     chan struct{} // closed once the agent and its namespace are gone
	stopping bool          // asked to stop: exiting is no error (guarded by Provider.mu)
}

// start launches pd's agent; pd.op is held.
func (p *Provider) start(pd *pod) error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return errors.New("provider closed")
	}
	rec := pd.rec
	dir := p.podDir(rec.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "agent.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	proc := &process{done: make(chan struct{})}
	args := []string{"--simulate", rec.GPUType + "x" + strconv.Itoa(rec.GPUCount), "--hostname", rec.Name, "--log-format", "json"}
	if p.net != nil {
		if proc.node, err = p.net.Node(rec.Name, filepath.Join(dir, "node")); err != nil {
			logFile.Close()
			return err
		}
		gpus := filepath.Join(dir, "dev")
		if err := nodens.FakeGPUs(gpus, rec.GPUCount); err != nil {
			proc.node.Close()
			logFile.Close()
			return err
		}
		addr := net.JoinHostPort(proc.node.IP, agentPort)
		args = append(args, "--listen", "0.0.0.0:"+agentPort, "--advertise-url", "http://"+addr+"/metrics", "--slurm-device-dir", gpus)
		proc.cmd = proc.node.Command(p.cfg.AgentBinary, args...)
	} else {
		addr, err := freeLoopbackAddr()
		if err != nil {
			logFile.Close()
			return err
		}
		args = append(args, "--listen", addr, "--advertise-url", "http://"+addr+"/metrics")
		proc.cmd = exec.Command(p.cfg.AgentBinary, args...)
	}
	proc.cmd.Env = agentEnv(rec)
	proc.cmd.Dir = dir
	// Pods do not outlive the provider, even when it dies without Close.
	proc.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	out, err := proc.cmd.StderrPipe()
	if err == nil {
		proc.cmd.Stdout = proc.cmd.Stderr
		err = proc.cmd.Start()
	}
	if err != nil {
		if proc.node != nil {
			proc.node.Close()
		}
		logFile.Close()
		return fmt.Errorf("start agent: %w", err)
	}
	p.mu.Lock()
	pd.proc, pd.status, pd.message, pd.metricsURL, pd.started = proc, provision.StatusProvisioning, "", "", time.Now()
	closed = p.closed
	p.mu.Unlock()
	go p.watch(pd, proc, out, logFile)
	if closed { // Close ran meanwhile and missed this one
		p.halt(context.Background(), proc, syscall.SIGKILL, terminateGrace)
		return errors.New("provider closed")
	}
	return nil
}

// watch copies the agent's output to its log, marks the pod RUNNING once
// the agent serves, and records how it ended.
func (p *Provider) watch(pd *pod, proc *process, out io.Reader, logFile *os.File) {
	defer close(proc.done)
	var tail []string
	ns := ""
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		_, _ = logFile.WriteString(line + "\n")
		if ns == "" && proc.node != nil {
			// By its first line the agent runs in its own mount namespace;
			// the node's daemons share it.
			if got := nodens.MountNamespace(proc.cmd.Process.Pid); got != nodens.MountNamespace(os.Getpid()) {
				ns = got
			}
		}
		if tail = append(tail, line); len(tail) > tailLines {
			tail = tail[1:]
		}
		if addr, ok := servingAddr(line); ok {
			p.mu.Lock()
			if pd.proc == proc && !proc.stopping {
				pd.status, pd.metricsURL = provision.StatusRunning, metricsURL(addr, proc.node)
				if proc.node != nil {
					pd.address = proc.node.IP
				}
			}
			p.mu.Unlock()
		}
	}
	err := proc.cmd.Wait()
	if proc.node != nil {
		nodens.Drain(ns, 10*time.Second)
		proc.node.Close()
	}
	logFile.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	if pd.proc != proc {
		return
	}
	pd.proc, pd.metricsURL, pd.address = nil, "", ""
	if proc.stopping {
		pd.status = provision.StatusExited
		return
	}
	if err == nil {
		err = fmt.Errorf("exit status 0")
	}
	pd.status, pd.message = provision.StatusError, fmt.Sprintf("agent exited (%v): %s", err, strings.Join(tail, "\n"))
	p.log.Warn("agent exited", "pod", pd.rec.ID, "err", err)
}

// halt stops proc: sig, then SIGKILL once grace is over or ctx is done. It
// returns when the agent and its namespace are gone.
func (p *Provider) halt(ctx context.Context, proc *process, sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	proc.stopping = true
	p.mu.Unlock()
	_ = proc.cmd.Process.Signal(sig)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-proc.done:
		return
	case <-timer.C:
	case <-ctx.Done():
	}
	_ = proc.cmd.Process.Kill()
	<-proc.done
}

// servingAddr finds the address in the agent's "serving" log line.
func servingAddr(line string) (string, bool) {
	if !strings.Contains(line, `"serving"`) {
		return "", false
	}
	var rec struct{ Msg, Addr string }
	if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "serving" || rec.Addr == "" {
		return "", false
	}
	return rec.Addr, true
}

// metricsURL is where the agent serving on addr is scraped from the host.
func metricsURL(addr string, node *nodens.Node) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if node != nil {
		host = node.IP
	} else if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/metrics"
}

// agentEnv is this process's environment without GPUWD_* and RUNPOD_*
// settings, then the pod's own.
func agentEnv(rec record) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GPUWD_") && !strings.HasPrefix(kv, "RUNPOD_") {
			env = append(env, kv)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(rec.Env)) {
		env = append(env, k+"="+rec.Env[k])
	}
	return append(env,
		"RUNPOD_POD_ID="+rec.ID, // registered as the agent's pod_id
		provision.RequestIDEnv+"="+rec.RequestID,
		"GPUWD_COST_PER_HOUR="+strconv.FormatFloat(rec.CostPerHour, 'f', -1, 64))
}

// freeLoopbackAddr is a loopback address with a port free now. The agent is
// given a fixed port, not :0, because it must advertise its URL: with
// RUNPOD_POD_ID set it would otherwise advertise RunPod's proxy.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
