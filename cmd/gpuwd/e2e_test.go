package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/api"
	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
	"github.com/gpu-watchdog/gpu-watchdog/web/webtest"
)

// The real binaries, built once for these tests.
var gpuwdBin, agentBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gpuwd-e2e")
	if err != nil {
		panic(err)
	}
	if gpuwdBin, err = testenv.BuildGpuwd(dir); err == nil {
		agentBin, err = testenv.BuildAgent(dir)
	}
	if err != nil {
		panic(err)
	}
	code := webtest.Main(m) // m.Run, then the shared browser is closed
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running program whose JSON log is kept.
type proc struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	log  strings.Builder
	done chan struct{}
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// launch starts bin and waits for its "serving" log line.
func launch(t testing.TB, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, append(args, "--log-format", "json")...), done: make(chan struct{})}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	served := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving" {
				select {
				case served <- rec.Addr:
				default:
				}
			}
		}
		p.cmd.Wait()
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s log:\n%s", filepath.Base(bin), p.logs())
		}
	})
	select {
	case p.addr = <-served:
	case <-p.done:
		t.Fatalf("%s exited before serving:\n%s", bin, p.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not serve within 30s:\n%s", bin, p.logs())
	}
	return p
}

func (p *proc) stop(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("did not exit after %v", sig)
	}
}

// waitFor polls query until ok accepts its vector.
func waitFor(t *testing.T, c *api.Client, query string, ok func(model.Vector) bool) model.Vector {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := c.Query(context.Background(), query, time.Time{})
		if err == nil {
			if v, _ := res.Value.(model.Vector); ok(v) {
				return v
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never satisfied the test (last: %v, %v)", query, res, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestServeScrapesRegisteredAgentsAndSurvivesKill9 runs the real gpuwd and
// two real gpuwd-agent --simulate processes that register themselves, then
// kills gpuwd with SIGKILL mid-ingestion and restarts it: the registered
// agents and the committed history are still there.
func TestServeScrapesRegisteredAgentsAndSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gpuwd.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	serveArgs := []string{"serve", "--listen", "127.0.0.1:0", "--config", cfg, "--data-dir", filepath.Join(dir, "data"), "--token", "e2e-token"}
	srv := launch(t, gpuwdBin, serveArgs...)
	c := &api.Client{BaseURL: "http://" + srv.addr}
	for i, spec := range []string{"h100x8", "a100x8"} {
		launch(t, agentBin, "--simulate", spec, "--hostname", fmt.Sprintf("node-%d", i), "--listen", "127.0.0.1:0",
			"--aggregator-url", c.BaseURL, "--token", "e2e-token")
	}
	launch(t, agentBin, "--simulate", "l4x1", "--listen", "127.0.0.1:0", "--aggregator-url", c.BaseURL, "--token", "not-the-token-xyzzy")

	waitFor(t, c, `up{job="gpuwd-agent"} == 1`, func(v model.Vector) bool { return len(v) == 2 })
	before := waitFor(t, c, `sum(count_over_time(DCGM_FI_DEV_GPU_TEMP[10m]))`, func(v model.Vector) bool { return len(v) == 1 && v[0].Value >= 16*3 })
	if strings.Contains(srv.logs(), "xyzzy") {
		t.Error("the refused token appears in gpuwd's log")
	}
	if !strings.Contains(srv.logs(), "unauthorized") && !strings.Contains(srv.logs(), "refused") {
		t.Error("the wrong token was not logged as refused")
	}

	srv.stop(t, syscall.SIGKILL)
	srv = launch(t, gpuwdBin, serveArgs...)
	c.BaseURL = "http://" + srv.addr
	// Straight after the restart, before any heartbeat: agents come from the store.
	resp, err := http.Get(c.BaseURL + "/api/v1/sd")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := strings.Count(string(body), `"job":"gpuwd-agent"`); n != 2 {
		t.Errorf("after kill -9 and restart, /api/v1/sd lists %d registered agents, want 2: %s", n, body)
	}
	after := waitFor(t, c, `sum(count_over_time(DCGM_FI_DEV_GPU_TEMP[10m]))`, func(v model.Vector) bool { return len(v) == 1 })
	if after[0].Value < before[0].Value {
		t.Errorf("samples before the kill: %v; after the restart only %v", before[0].Value, after[0].Value)
	}
	waitFor(t, c, `up{job="gpuwd-agent"} == 1`, func(v model.Vector) bool { return len(v) == 2 })

	// The CLI against the restarted server.
	var out, errOut strings.Builder
	if code := run([]string{"query", "--server", c.BaseURL, `count(DCGM_FI_DEV_GPU_TEMP)`}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "=> 16 @[") {
		t.Errorf("gpuwd query: exit %d, %q %q", code, out.String(), errOut.String())
	}
	srv.stop(t, syscall.SIGTERM)
	if !strings.Contains(srv.logs(), `"msg":"serving"`) || strings.Contains(srv.logs(), `"level":"ERROR"`) {
		t.Errorf("clean shutdown expected; log:\n%s", srv.logs())
	}
}
