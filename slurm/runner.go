package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// execRunner runs Slurm's client commands (scontrol, sinfo, squeue, sdiag)
// with a deadline. A command that outlives it is killed with its whole
// process group, so a hung slurmctld costs one timeout, never a stuck
// goroutine.
type execRunner struct {
	env     []string // SLURM_CONF and the rest of the environment
	timeout time.Duration
	paths   map[string]string // program name → path
}

// maxOutput bounds what one command may print (squeue of a large queue is
// a few MiB).
const maxOutput = 64 << 20

// Run runs name with args and returns its standard output.
func (r *execRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	path := r.paths[name]
	if path == "" {
		return nil, fmt.Errorf("%s: not installed", name)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = r.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	var stdout, stderr limitedBuffer
	stdout.limit, stderr.limit = maxOutput, 4<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return nil, fmt.Errorf("%s %s: no answer within %v", name, strings.Join(args, " "), r.timeout)
	}
	if stdout.over {
		return nil, fmt.Errorf("%s: output over %d bytes", name, maxOutput)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return stdout.Bytes(), fmt.Errorf("%s %s: %s", name, strings.Join(args, " "), firstLine(msg))
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return stdout.Bytes(), nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// limitedBuffer keeps at most limit bytes and notes an overflow.
type limitedBuffer struct {
	bytes.Buffer
	limit int
	over  bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.Len(); len(p) > room {
		b.over = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
