package chaos

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/api"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// smallDisk mounts a tmpfs of size on dir in a private mount namespace held
// by a sleeping process, so that nothing outside it sees the mount and it
// goes away with that process, whatever happens to the test. It returns the
// holder's pid (nsenter --target pid --mount runs a program there) and the
// path under which this process reaches the mounted dir.
func smallDisk(t *testing.T, dir, size string) (pid int, inside string) {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, "the disk-full scenario mounts a tmpfs: it needs root")
	}
	unshare := testenv.LookPath(t, "unshare")
	testenv.LookPath(t, "nsenter")
	holder := exec.Command(unshare, "--mount", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs -o size="$1" tmpfs "$0" && echo mounted && exec sleep 100000`, dir, size)
	holder.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	holder.Stderr = os.Stderr
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "mounted" {
		t.Fatalf("mounting a tmpfs on %s in a private namespace failed (%q)", dir, line)
	}
	return holder.Process.Pid, fmt.Sprintf("/proc/%d/root%s", holder.Process.Pid, dir)
}

// copyFiles copies the files of dir (SQLite files with their -wal and -shm,
// as the stopped gpuwd left them) into a new directory. SQLite resolves
// the /proc/PID/root link that leads into the private namespace, and would
// look for them outside it.
func copyFiles(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// fill writes path until the file system is full and returns the bytes
// written.
func fill(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	var n int64
	for {
		w, err := f.Write(chunk)
		n += int64(w)
		if errors.Is(err, syscall.ENOSPC) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestChaosDiskFull runs the real gpuwd with its data directory on a 32 MiB
// tmpfs (mounted in a private mount namespace; root) while it scrapes two
// simulated agents every second, evaluates the default rule pack's
// aggregator rules (every `for` divided by 60) and serves a public
// dashboard; then fills the file system to the last byte. gpuwd must say so
// (a log line naming the full disk, gpuwd_storage_writable 0, "disk full"
// as every target's last error, GpuwdStorageNotWritable in chat once),
// keep answering queries, with exactly the
// answers it gave before for a time before the fill, and keep serving the
// dashboard. Once the filler is removed, writes resume by themselves, new
// samples are stored, and after a clean stop every SQLite file passes
// integrity_check and a restarted gpuwd still gives the same answers.
func TestChaosDiskFull(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o750); err != nil {
		t.Fatal(err)
	}
	holder, inside := smallDisk(t, data, "32m")
	hook := chattest.NewWebhook(t)
	serveConfig(t, dir, hook.BaseURL()+"/hook", "groups: []\n")
	writeFiles(t, dir, map[string]string{"gpuwd.yml": `global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
rule_files: [` + scaledRules(t, dir, "aggregator.yml") + `]
alerting: {config_file: alerting.yml}
`})
	addr := freeAddr(t)
	argv := []string{"nsenter", "--target", strconv.Itoa(holder), "--mount", "--", gpuwdBin, "serve", "--listen", addr,
		"--config", filepath.Join(dir, "gpuwd.yml"), "--data-dir", data, "--token", agentToken, "--public-dashboard", "--log-format", "json"}
	srv := launchCmd(t, nil, argv)
	c := &api.Client{BaseURL: srv.url(""), HTTP: httpClient}
	startAgent(t, "h100x8", "node-0", freeAddr(t), addr)
	startAgent(t, "h100x8", "node-1", freeAddr(t), addr)
	waitQuery(t, c, `up{job="gpuwd-agent"} == 1`, 60*time.Second, func(v model.Vector) bool { return len(v) == 2 })
	time.Sleep(6 * time.Second)
	at := time.Now().Add(-5 * time.Second).Truncate(time.Millisecond)
	before := answers(t, c, at)

	filled := time.Now()
	filler := filepath.Join(inside, "filler")
	size := fill(t, filler)
	detected := eventually(t, 60*time.Second, "gpuwd_storage_writable 0", func() bool { return metric(srv.url("/metrics"), "gpuwd_storage_writable") == 0 })
	diskFullLog := regexp.MustCompile(`(?i)disk (is )?full`)
	eventually(t, 20*time.Second, "a log line saying the disk is full", func() bool {
		return srv.logCount("ERROR", diskFullLog)+srv.logCount("WARN", diskFullLog) > 0
	})
	eventually(t, 20*time.Second, "every agent target failing with the full disk", func() bool {
		var body struct {
			Data struct {
				ActiveTargets []api.Target `json:"activeTargets"`
			} `json:"data"`
		}
		if !getJSON(srv.url("/api/v1/targets?scrapePool=gpuwd-agent"), &body) || len(body.Data.ActiveTargets) != 2 {
			return false
		}
		for _, tg := range body.Data.ActiveTargets {
			if !diskFullLog.MatchString(tg.LastError) {
				return false
			}
		}
		return true
	})
	// The alert that says so fires and reaches chat although alerts.db
	// cannot record it: its samples are held in memory, its notification
	// sent unrecorded.
	eventually(t, 60*time.Second, "GpuwdStorageNotWritable notified while the disk is full", func() bool {
		return countNotified(t, hook, "GpuwdStorageNotWritable", notify.StatusFiring) > 0
	})
	notified := time.Since(filled)
	time.Sleep(3 * time.Second) // full for a while
	if after := answers(t, c, at); !reflect.DeepEqual(before, after) {
		t.Fatalf("answers for %s changed while the disk was full:\nbefore %v\nnow    %v", at.Format(time.RFC3339Nano), before, after)
	}
	for _, page := range []string{"/", "/nodes", "/targets", "/alerts"} {
		if code := status(srv.url(page)); code != 200 {
			t.Errorf("dashboard page %s: HTTP %d while the disk is full", page, code)
		}
	}
	fullLogs := srv.logCount("", diskFullLog)
	fullFor := time.Since(filled)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	resumed := eventually(t, 60*time.Second, "gpuwd_storage_writable 1 again", func() bool { return metric(srv.url("/metrics"), "gpuwd_storage_writable") == 1 })
	waitQuery(t, c, fmt.Sprintf(`timestamp(up{job="gpuwd-agent"} == 1) > %f`, float64(freed.UnixMilli())/1000), 60*time.Second,
		func(v model.Vector) bool { return len(v) == 2 })
	stored := time.Since(freed)
	if after := answers(t, c, at); !reflect.DeepEqual(before, after) {
		t.Fatalf("answers for %s changed after the disk was freed:\nbefore %v\nnow    %v", at.Format(time.RFC3339Nano), before, after)
	}
	eventually(t, 60*time.Second, "GpuwdStorageNotWritable resolved", func() bool {
		return countNotified(t, hook, "GpuwdStorageNotWritable", notify.StatusResolved) > 0
	})
	if n := countNotified(t, hook, "GpuwdStorageNotWritable", notify.StatusFiring); n != 1 {
		t.Errorf("GpuwdStorageNotWritable was notified firing %d times, want once", n)
	}

	srv.stop(t, syscall.SIGTERM)
	files := checkSQLite(t, copyFiles(t, inside))
	srv = launchCmd(t, nil, argv)
	if after := answers(t, c, at); !reflect.DeepEqual(before, after) {
		t.Fatalf("answers for %s changed after the restart:\nbefore %v\nnow    %v", at.Format(time.RFC3339Nano), before, after)
	}
	srv.stop(t, syscall.SIGTERM)
	files += checkSQLite(t, copyFiles(t, inside))
	summary(t, "disk full", "32 MiB tmpfs filled (%d MiB filler): gpuwd_storage_writable 0 after %.1f s, %d log lines naming the full disk, targets' last error says so; "+
		"GpuwdStorageNotWritable (for: 2s here) in chat %.1f s after the fill, once, resolved after; "+
		"queries (answers identical) and 4 dashboard pages served while full for %.0f s; writes resumed %.1f s after space was freed (new samples stored %.1f s after); "+
		"%d SQLite integrity checks ok; same answers after a restart",
		size>>20, detected.Seconds(), fullLogs, notified.Seconds(), fullFor.Seconds(), resumed.Seconds(), stored.Seconds(), files)
}

// countNotified counts the webhook messages in which alertname has status.
func countNotified(t *testing.T, hook *chattest.Server[chattest.Request], alertname, status string) int {
	n := 0
	for _, m := range webhookMessages(t, hook) {
		for _, a := range m.Alerts {
			if a.Labels["alertname"] == alertname && a.Status == status {
				n++
				break
			}
		}
	}
	return n
}
