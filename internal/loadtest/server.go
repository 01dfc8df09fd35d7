package loadtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// aggregator is the gpuwd serve process under test.
type aggregator struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	done chan struct{}

	mu   sync.Mutex
	tail []string // its last log lines, for errors
}

// startAggregator runs bin serve with args and waits for its "serving" line.
func startAggregator(bin string, args ...string) (*aggregator, error) {
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the load test
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	a := &aggregator{cmd: cmd, done: make(chan struct{})}
	served := make(chan string, 1)
	go func() {
		defer close(a.done)
		a.readLog(stderr, served)
		_ = cmd.Wait()
	}()
	select {
	case addr := <-served:
		a.base = "http://" + addr
		return a, nil
	case <-a.done:
		return nil, fmt.Errorf("%s exited before serving:\n%s", bin, a.lastLines())
	case <-time.After(time.Minute):
		a.kill()
		return nil, fmt.Errorf("%s did not serve within a minute:\n%s", bin, a.lastLines())
	}
}

// readLog keeps the last lines of the log and reports the serving address.
func (a *aggregator) readLog(r io.Reader, served chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		a.mu.Lock()
		a.tail = append(a.tail, line)
		if len(a.tail) > 20 {
			a.tail = a.tail[1:]
		}
		a.mu.Unlock()
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving" && rec.Addr != "" {
			select {
			case served <- rec.Addr:
			default:
			}
		}
	}
}

func (a *aggregator) lastLines() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.tail, "\n")
}

// exited reports whether the process has ended.
func (a *aggregator) exited() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// stop asks the process to end (SIGTERM), killing it after 30 s.
func (a *aggregator) stop() error {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		a.kill()
		return errors.New("gpuwd did not stop within 30s of SIGTERM: killed")
	}
	return nil
}

func (a *aggregator) kill() {
	_ = a.cmd.Process.Kill()
	<-a.done
}

// procStats is what /proc says of a process.
type procStats struct {
	cpuSeconds float64 // user + system
	rss, hwm   int64   // bytes: resident now, and at the peak
}

// readProc reads /proc/PID/stat and /proc/PID/status.
func readProc(pid int) (procStats, error) {
	var s procStats
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The fields after the command name, which may hold spaces and ')'.
	rest := string(raw[strings.LastIndexByte(string(raw), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	s.cpuSeconds = (utime + stime) / 100 // USER_HZ is 100 on Linux
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if name == "VmRSS" {
			s.rss = kb << 10
		} else {
			s.hwm = kb << 10
		}
	}
	return s, nil
}
