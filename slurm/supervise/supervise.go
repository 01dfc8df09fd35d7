package supervise

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Backoff between restarts: it doubles from MinBackoff to MaxBackoff and
// starts over once a daemon has run for StableAfter.
const (
	MinBackoff  = time.Second
	MaxBackoff  = 30 * time.Second
	StableAfter = time.Minute
)

// Spec says how to start a daemon. It must stay in the foreground.
type Spec struct {
	Name string   // "slurmd": the log attribute and the metrics label
	Path string   // the program
	Args []string // its arguments, without the program
	Env  []string // its whole environment
}

// Metrics are the daemon gauges and counters, labelled by daemon name.
type Metrics struct {
	Up       *prometheus.GaugeVec   // 1 while running
	Restarts *prometheus.CounterVec // restarts after the first start
}

// NewMetrics makes Metrics named prefix_daemon_up and
// prefix_daemon_restarts_total.
func NewMetrics(prefix string) Metrics {
	return Metrics{
		Up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: prefix + "_daemon_up",
			Help: "Whether the daemon the agent supervises is running (1) or not (0)."}, []string{"daemon"}),
		Restarts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: prefix + "_daemon_restarts_total",
			Help: "How many times the agent restarted the daemon after it died."}, []string{"daemon"}),
	}
}

// Describe and Collect make Metrics a prometheus.Collector.
func (m Metrics) Describe(ch chan<- *prometheus.Desc) { m.Up.Describe(ch); m.Restarts.Describe(ch) }
func (m Metrics) Collect(ch chan<- prometheus.Metric) { m.Up.Collect(ch); m.Restarts.Collect(ch) }

// Daemon is one supervised program.
type Daemon struct {
	spec    Spec
	logger  *slog.Logger
	metrics Metrics

	mu       sync.Mutex
	cmd      *exec.Cmd // nil while not running
	stopping bool
	exited   chan struct{} // closed when the current run ends
	lastErr  error

	stop chan struct{} // closed by Stop
	done chan struct{} // closed when supervision has ended
}

// Start runs spec and keeps it running until Stop: the caller decides the
// order daemons stop in. It returns the first start's error, if any (a
// missing program): a daemon that cannot even start is not retried.
func Start(spec Spec, logger *slog.Logger, m Metrics) (*Daemon, error) {
	d := &Daemon{spec: spec, logger: logger.With("daemon", spec.Name), metrics: m,
		stop: make(chan struct{}), done: make(chan struct{})}
	m.Up.WithLabelValues(spec.Name).Set(0)
	m.Restarts.WithLabelValues(spec.Name).Add(0)
	if err := d.launch(); err != nil {
		close(d.done)
		return nil, err
	}
	go d.supervise()
	return d, nil
}

// Pid is the running process's pid, 0 when it is not running.
func (d *Daemon) Pid() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return 0
	}
	return d.cmd.Process.Pid
}

// Running reports whether the daemon's process is alive now.
func (d *Daemon) Running() bool { return d.Pid() != 0 }

// Exited is closed when the current run of the daemon ends.
func (d *Daemon) Exited() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.exited
}

// LastExit is how the previous run ended (nil before any ended).
func (d *Daemon) LastExit() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lastErr
}

func (d *Daemon) launch() error {
	cmd := exec.Command(d.spec.Path, d.spec.Args...)
	cmd.Env = d.spec.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := spawn(cmd); err != nil {
		return fmt.Errorf("starting %s: %w", d.spec.Name, err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); d.fold(stdout) }()
	go func() { defer wg.Done(); d.fold(stderr) }()
	exited := make(chan struct{})
	d.mu.Lock()
	d.cmd, d.exited = cmd, exited
	d.mu.Unlock()
	d.metrics.Up.WithLabelValues(d.spec.Name).Set(1)
	d.logger.Debug("daemon started", "pid", cmd.Process.Pid, "args", d.spec.Args)
	go func() {
		wg.Wait() // Wait closes the pipes: read them to the end first
		err := cmd.Wait()
		d.mu.Lock()
		d.cmd, d.lastErr = nil, exitError(err)
		d.mu.Unlock()
		d.metrics.Up.WithLabelValues(d.spec.Name).Set(0)
		close(exited)
	}()
	return nil
}

func exitError(err error) error {
	if err == nil {
		return errors.New("exited with status 0")
	}
	return err
}

// supervise restarts the daemon whenever it dies, until Stop.
func (d *Daemon) supervise() {
	defer close(d.done)
	backoff := MinBackoff
	for {
		started := time.Now()
		select {
		case <-d.Exited():
		case <-d.stop:
			return
		}
		if time.Since(started) >= StableAfter {
			backoff = MinBackoff
		}
		d.logger.Error("daemon died; restarting", "err", d.LastExit(), "in", backoff)
		select {
		case <-time.After(backoff):
		case <-d.stop:
			return
		}
		backoff = min(2*backoff, MaxBackoff)
		if err := d.launch(); err != nil {
			d.logger.Error("daemon could not be restarted", "err", err)
			continue
		}
		d.metrics.Restarts.WithLabelValues(d.spec.Name).Inc()
	}
}

// Stop ends supervision and the daemon: SIGTERM, then SIGKILL after grace.
// It returns once the process is gone.
func (d *Daemon) Stop(grace time.Duration) {
	d.mu.Lock()
	if d.stopping {
		d.mu.Unlock()
		<-d.done
		return
	}
	d.stopping = true
	d.mu.Unlock()
	close(d.stop)
	<-d.done
	d.terminate(grace)
}

// terminate signals the running process, if any, and waits for it.
func (d *Daemon) terminate(grace time.Duration) {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		d.logger.Debug("daemon stopped")
		return
	case <-time.After(grace):
	}
	d.logger.Warn("daemon ignored SIGTERM; killing it", "waited", grace)
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
	<-exited
}

// fold copies a daemon's output into the log, one record per line.
func (d *Daemon) fold(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		level, msg := Classify(sc.Text())
		if msg != "" {
			d.logger.Log(context.Background(), level, msg)
		}
	}
	// A line over 64 KiB ends the scan; drain the rest so the child never blocks.
	_, _ = io.Copy(io.Discard, r)
}

// spawn starts cmd from one OS thread that lives as long as the process:
// the parent-death signal fires when the thread that forked the child ends,
// and Go may end other threads.
func spawn(cmd *exec.Cmd) error {
	spawnerOnce.Do(func() {
		spawnReqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread stays for good
			for r := range spawnReqs {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	spawnReqs <- spawnReq{cmd, done}
	return <-done
}

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

var (
	spawnerOnce sync.Once
	spawnReqs   chan spawnReq
)
