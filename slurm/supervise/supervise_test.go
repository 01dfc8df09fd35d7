package supervise

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// records is a slog handler that keeps every record.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func (r *records) find(msg string) (slog.Record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.Message == msg {
			return rec, true
		}
	}
	return slog.Record{}, false
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func shell(name, script string) Spec {
	return Spec{Name: name, Path: "/bin/sh", Args: []string{"-c", script}, Env: os.Environ()}
}

func TestDaemonOutputIsFoldedIntoTheLogWithLevels(t *testing.T) {
	rec := &records{}
	m := NewMetrics("test")
	d, err := Start(shell("slurmd", `echo "slurmd: error: Unable to register: Zero Bytes were transmitted"
echo "[2026-11-23T05:23:02.043] WARNING: A line in gres.conf for GRES gpu has 6 more configured than expected in slurm.conf. Ignoring extra GRES."
echo "[2026-11-23T05:23:02.044] WARNING: Something else"
echo "slurmd: debug2: noise" >&2
echo "munged: Info: Created 2 work threads"
echo "slurmd: error:  mpi/pmix_v4: init: (null) [0]: mpi_pmix.c:195: pmi/pmix: can not load PMIx library"
exec sleep 60`), slog.New(rec), m)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop(time.Second)
	want := map[string]slog.Level{
		"Unable to register: Zero Bytes were transmitted":                                                          slog.LevelError,
		"A line in gres.conf for GRES gpu has 6 more configured than expected in slurm.conf. Ignoring extra GRES.": slog.LevelInfo,
		"noise":                  slog.LevelDebug,
		"Created 2 work threads": slog.LevelInfo,
		"mpi/pmix_v4: init: (null) [0]: mpi_pmix.c:195: pmi/pmix: can not load PMIx library": slog.LevelDebug,
	}
	for msg, level := range want {
		eventually(t, "log line "+msg, func() bool { _, ok := rec.find(msg); return ok })
		if r, _ := rec.find(msg); r.Level != level {
			t.Errorf("%q logged at %v, want %v", msg, r.Level, level)
		}
	}
	if got := testutil.ToFloat64(m.Up.WithLabelValues("slurmd")); got != 1 {
		t.Errorf("daemon_up = %v while running", got)
	}
}

func TestDeadDaemonIsRestartedAndCounted(t *testing.T) {
	m := NewMetrics("test")
	dir := t.TempDir()
	// Each start appends a line; the first two runs die at once.
	d, err := Start(shell("slurmctld", `echo x >> `+dir+`/starts; n=$(wc -l < `+dir+`/starts); [ "$n" -ge 3 ] && exec sleep 60; exit 3`),
		slog.New(&records{}), m)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "two restarts", func() bool { return testutil.ToFloat64(m.Restarts.WithLabelValues("slurmctld")) == 2 })
	eventually(t, "the daemon up", func() bool { return testutil.ToFloat64(m.Up.WithLabelValues("slurmctld")) == 1 })
	if d.LastExit() == nil || !strings.Contains(d.LastExit().Error(), "exit status 3") {
		t.Errorf("LastExit = %v", d.LastExit())
	}
	pid := d.Pid()
	d.Stop(time.Second)
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("pid %d still alive after Stop", pid)
	}
	if got := testutil.ToFloat64(m.Up.WithLabelValues("slurmctld")); got != 0 {
		t.Errorf("daemon_up = %v after Stop", got)
	}
	time.Sleep(1500 * time.Millisecond) // past a backoff: nothing may come back
	if d.Running() {
		t.Error("the daemon came back after Stop")
	}
}

func TestKilledDaemonComesBack(t *testing.T) {
	m := NewMetrics("test")
	d, err := Start(shell("munged", "exec sleep 60"), slog.New(&records{}), m)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop(time.Second)
	first := d.Pid()
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a new process", func() bool { p := d.Pid(); return p != 0 && p != first })
	if got := testutil.ToFloat64(m.Restarts.WithLabelValues("munged")); got != 1 {
		t.Errorf("restarts = %v, want 1", got)
	}
}

func TestStopKillsADaemonThatIgnoresSIGTERM(t *testing.T) {
	rec := &records{}
	d, err := Start(shell("stubborn", `trap "" TERM; echo ready; while :; do sleep 0.05; done`), slog.New(rec), NewMetrics("test"))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the trap set", func() bool { _, ok := rec.find("ready"); return ok })
	pid := d.Pid()
	d.Stop(200 * time.Millisecond)
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("pid %d survived Stop", pid)
	}
	if _, ok := rec.find("daemon ignored SIGTERM; killing it"); !ok {
		t.Error("the kill was not logged")
	}
}

func TestMissingProgramIsAnErrorAtOnce(t *testing.T) {
	_, err := Start(Spec{Name: "slurmd", Path: "/nonexistent/slurmd"}, slog.New(&records{}), NewMetrics("test"))
	if err == nil || !strings.Contains(err.Error(), "starting slurmd") {
		t.Fatalf("Start = %v", err)
	}
}

func TestClassify(t *testing.T) {
	for line, want := range map[string]string{
		"[2026-11-23T05:23:31.461] slurmd started on Mon": "INFO slurmd started on Mon",
		"slurmctld: fatal: Unable to bind listen port":    "ERROR Unable to bind listen port",
		"munged: Warning: Logfile is insecure":            "WARN Logfile is insecure",
		"slurmd: debug:  Log file re-opened":              "DEBUG Log file re-opened",
		"plain text: with a colon":                        "INFO plain text: with a colon",
		"error: Could not open node state file x":         "DEBUG Could not open node state file x",
		"": "INFO ",
	} {
		level, msg := Classify(line)
		if got := level.String() + " " + msg; got != want {
			t.Errorf("Classify(%q) = %q, want %q", line, got, want)
		}
	}
}
