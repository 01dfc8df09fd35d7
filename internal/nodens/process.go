package nodens

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Enter runs prog in the namespaces (network, hostname, mounts) of the
// running process pid, e.g. sinfo on a node's Slurm head; ctx kills it.
func Enter(ctx context.Context, pid int, prog string, args ...string) *exec.Cmd {
	all := append([]string{"-t", strconv.Itoa(pid), "-n", "-u", "-m", "--", prog}, args...)
	return exec.CommandContext(ctx, "nsenter", all...)
}

// MountNamespace is the mount namespace process pid runs in
// ("mnt:[4026…]"), or "" when it is gone.
func MountNamespace(pid int) string {
	ns, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/mnt")
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

// Drain waits until nothing runs in mount namespace ns any more (daemons
// take a moment to save their state when their parent dies), killing what
// is left after limit.
func Drain(ns string, limit time.Duration) {
	if ns == "" {
		return
	}
	deadline := time.Now().Add(limit)
	for left := ProcessesIn(ns); len(left) > 0; left = ProcessesIn(ns) {
		if time.Now().After(deadline.Add(5 * time.Second)) {
			return // unkillable: give up rather than hang
		}
		if time.Now().After(deadline) {
			for pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// FakeGPUs makes n device files nvidia0… in dir, standing in for the GPUs
// (clones of /dev/null: Slurm only stats them).
func FakeGPUs(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range n {
		path := filepath.Join(dir, "nvidia"+strconv.Itoa(i))
		if _, err := os.Stat(path); err == nil {
			continue
		}
		if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, int(1<<8|3)); err != nil {
			return &os.PathError{Op: "mknod", Path: path, Err: err}
		}
	}
	return nil
}
