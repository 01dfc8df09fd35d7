package collector

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/parse"
)

// fakeRunner answers commands from recorded output: a map from the command
// line ("sinfo -h -N …") to a file of ../parse/testdata or to literal text.
type fakeRunner struct {
	mu    sync.Mutex
	out   map[string]string // command line → output
	errs  map[string]error  // command line → error
	calls []string
}

func newFakeRunner() *fakeRunner {
	return &fakeRunner{out: map[string]string{}, errs: map[string]error{}}
}

func cmdline(name string, args ...string) string {
	return strings.Join(append([]string{name}, args...), " ")
}

// file answers name args with a testdata file.
func (f *fakeRunner) file(t testing.TB, file, name string, args ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "parse", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	f.text(string(b), name, args...)
}

// text answers name args with out.
func (f *fakeRunner) text(out, name string, args ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.out[cmdline(name, args...)] = out
	delete(f.errs, cmdline(name, args...))
}

// fail makes name args fail with err.
func (f *fakeRunner) fail(err error, name string, args ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[cmdline(name, args...)] = err
}

func (f *fakeRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := cmdline(name, args...)
	f.calls = append(f.calls, c)
	if err := f.errs[c]; err != nil {
		return nil, err
	}
	out, ok := f.out[c]
	if !ok {
		return nil, fmt.Errorf("%s: exit status 1", c)
	}
	return []byte(out), nil
}

// called returns how many commands ran that start with prefix, and forgets
// them.
func (f *fakeRunner) called(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	f.calls = nil
	return n
}

// hangRunner blocks every command until ctx ends, like a dead slurmctld.
type hangRunner struct{ started chan struct{} }

func (h hangRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	select {
	case h.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// clusterRunner answers the head's commands from the testdata of version.
func clusterRunner(t testing.TB, version string) *fakeRunner {
	f := newFakeRunner()
	f.file(t, version+"-sinfo-nodes.txt", "sinfo", parse.NodesArgs...)
	f.file(t, version+"-squeue-jobs.txt", "squeue", parse.JobsArgs...)
	f.file(t, version+"-scontrol-partitions.txt", "scontrol", parse.PartitionsArgs...)
	f.file(t, version+"-sdiag.txt", "sdiag")
	return f
}

var errExit = errors.New("exit status 1")
