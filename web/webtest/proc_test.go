package webtest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// chromiumProcesses lists the live processes running the binary exe, with
// their parent process.
func chromiumProcesses(exe string) map[int]int {
	procs := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if state, _, ok := procStat(pid); !ok || state == 'Z' {
			continue
		}
		if target, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err != nil ||
			strings.TrimSuffix(target, " (deleted)") != exe {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		ppid, _ := strconv.Atoi(fields[1])
		procs[pid] = ppid
	}
	return procs
}

// descendsFrom reports whether pid has ancestor among its ancestors in procs,
// or is it.
func descendsFrom(procs map[int]int, pid, ancestor int) bool {
	for range 64 {
		if pid == ancestor {
			return true
		}
		parent, ok := procs[pid]
		if !ok {
			return false
		}
		pid = parent
	}
	return false
}

func TestNoLeftoverProcesses(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	exe := realBinary(testenv.LookPath(t, "chromium"))
	before := chromiumProcesses(exe)

	b := Launch(t)
	p := b.Open(t, "about:blank") // a renderer too
	p.Eval(`1`, nil)
	during := chromiumProcesses(exe)
	ours := browserProcesses(b.pid, b.dataDir)
	t.Logf("chromium processes: %d before, %d while the browser runs, %d of them this browser's (pid %d)",
		len(before), len(during), len(ours), b.pid)
	if len(ours) < 2 {
		t.Errorf("the browser has %d processes; a browser and its renderer at least were expected", len(ours))
	}
	for pid := range during {
		if descendsFrom(during, pid, b.pid) && !slices.Contains(ours, pid) {
			t.Errorf("process %d descends from the browser but is not found as one of its own", pid)
		}
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if left := browserProcesses(b.pid, b.dataDir); len(left) > 0 {
		t.Errorf("processes %v are left after Close", left)
	}
	after := chromiumProcesses(exe)
	for pid := range after {
		if _, old := before[pid]; !old && during[pid] != 0 && descendsFrom(during, pid, b.pid) {
			t.Errorf("chromium process %d of the closed browser is still alive", pid)
		}
	}
	if _, err := os.Stat(b.dataDir); !os.IsNotExist(err) {
		t.Errorf("the user data directory %s is left: %v", b.dataDir, err)
	}
	t.Logf("chromium processes after Close: %d", len(after))
}

func TestNoNetworkBeyondLoopback(t *testing.T) {
	p := Shared(t).Open(t, "about:blank")
	for _, url := range []string{"http://example.com/", "http://192.0.2.1/", "https://1.1.1.1/"} {
		ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
		_, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
		cancel()
		if err == nil || !strings.Contains(err.Error(), "net::ERR_") {
			t.Errorf("loading %s: %v; want a network error", url, err)
		} else {
			t.Logf("%s: %v", url, err)
		}
	}
}

// TestSharedWithoutMain checks that, where TestMain does not use Main, the
// shared browser lives while tests hold it and closes after the last.
func TestSharedWithoutMain(t *testing.T) {
	if err := CloseShared(); err != nil {
		t.Fatal(err)
	}
	shared.mu.Lock()
	wasMain := shared.main
	shared.main = false
	shared.mu.Unlock()
	defer func() {
		shared.mu.Lock()
		shared.main = wasMain
		shared.mu.Unlock()
	}()

	var first *Browser
	t.Run("group", func(t *testing.T) {
		t.Run("a", func(t *testing.T) { first = Shared(t) })
		if first == nil {
			t.Skip("no browser")
		}
		if shared.b != nil {
			t.Errorf("the browser outlived the only test that held it")
		}
		if left := browserProcesses(first.pid, first.dataDir); len(left) > 0 {
			t.Errorf("processes %v left", left)
		}
		t.Run("b", func(t *testing.T) {
			b := Shared(t)
			if b == first {
				t.Errorf("a closed browser was handed out again")
			}
			t.Run("nested", func(t *testing.T) {
				if Shared(t) != b {
					t.Errorf("two tests running at once got different browsers")
				}
			})
		})
	})
	if shared.b != nil {
		t.Errorf("the browser outlived its tests")
	}
}
