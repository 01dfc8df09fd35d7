package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the real gpuwd-agent, built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gpuwd-agent-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "gpuwd-agent")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=e2e-1.0 -X main.revision=abc123", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building gpuwd-agent: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is a running gpuwd-agent.
type process struct {
	cmd  *exec.Cmd
	addr string
	log  chan string // the agent's log lines
	done chan error
}

// start runs the agent with args and env and waits until it serves.
func start(t testing.TB, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, log: make(chan string, 1000), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.log <- sc.Text()
		}
		close(p.log)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	deadline := time.After(30 * time.Second)
	for p.addr == "" {
		select {
		case line, ok := <-p.log:
			if !ok {
				t.Fatal("agent exited before serving")
			}
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving" {
				p.addr = rec.Addr
			}
		case <-deadline:
			t.Fatal("agent did not start serving")
		}
	}
	return p
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// stop sends SIGTERM and returns the rest of the log; the agent must exit 0.
func (p *process) stop(t *testing.T) string {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for line := range p.log {
		rest = append(rest, line)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("agent exited with %v after SIGTERM\n%s", err, strings.Join(rest, "\n"))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("agent did not exit after SIGTERM")
	}
	return strings.Join(rest, "\n")
}

func TestBinaryServesSimulatedGPUsConfiguredByEnv(t *testing.T) {
	p := start(t, []string{"GPUWD_SIMULATE=h100x8", "GPUWD_LISTEN=127.0.0.1:0", "GPUWD_LOG_FORMAT=json", "GPUWD_HOSTNAME=pod-7"})
	body := scrape(t, "http://"+p.addr+"/metrics")

	util := regexp.MustCompile(`(?m)^DCGM_FI_DEV_GPU_UTIL\{(.*)\} \d+$`).FindAllStringSubmatch(body, -1)
	if len(util) != 8 {
		t.Fatalf("%d DCGM_FI_DEV_GPU_UTIL series, want 8", len(util))
	}
	uuids := map[string]bool{}
	for _, m := range util {
		labels := m[1]
		for _, want := range []string{`hostname="pod-7"`, `modelName="NVIDIA H100 80GB HBM3"`, `DCGM_FI_DRIVER_VERSION="550.90.07"`, `device="nvidia`, `pci_bus_id="00000000:`} {
			if !strings.Contains(labels, want) {
				t.Errorf("labels %s lack %s", labels, want)
			}
		}
		uuids[regexp.MustCompile(`UUID="(GPU-[0-9a-f-]+)"`).FindStringSubmatch(labels)[1]] = true
	}
	if len(uuids) != 8 {
		t.Errorf("%d distinct UUIDs, want 8", len(uuids))
	}
	for _, want := range []string{
		"\ngpuwd_nvml_up 1\n",
		`gpuwd_build_info{goversion="go`,
		`revision="abc123",version="e2e-1.0"} 1`,
		"\nDCGM_FI_DEV_POWER_USAGE{",
		"\ngpuwd_collector_success{collector=\"xid\"} 1\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	rest := p.stop(t)
	if !strings.Contains(rest, `"msg":"shutting down"`) {
		t.Errorf("no orderly shutdown in the log:\n%s", rest)
	}
	if _, err := http.Get("http://" + p.addr + "/healthz"); err == nil {
		t.Error("still serving after SIGTERM")
	}
}

// Every agent of a simulated Slurm cluster is configured the same way,
// by environment in a pod template: a worker exports its GPUs' jobs, not
// the cluster.
func TestBinarySimulatesSlurmConfiguredByEnv(t *testing.T) {
	p := start(t, []string{"GPUWD_SIMULATE=a100x8", "GPUWD_LISTEN=127.0.0.1:0", "GPUWD_LOG_FORMAT=json", "GPUWD_HOSTNAME=gpu-node-a100",
		"GPUWD_SIMULATE_SLURM=worker", "GPUWD_SIMULATE_SLURM_NODES=gpu-node-h100:h100x8,gpu-node-a100:a100x8", "GPUWD_SIMULATE_SLURM_SEED=4"})
	body := scrape(t, "http://"+p.addr+"/metrics")
	if !strings.Contains(body, `gpuwd_slurm_node_info{cluster="gpuwd",node="gpu-node-a100",role="worker"} 1`) {
		t.Error("no gpuwd_slurm_node_info of a worker")
	}
	if n := strings.Count(body, "\ngpuwd_gpu_allocated{"); n != 8 {
		t.Errorf("%d gpuwd_gpu_allocated series, want 8", n)
	}
	if strings.Contains(body, "\nslurm_node_status{") {
		t.Error("a worker exports the cluster's series")
	}
	p.stop(t)
}

func TestBinaryWithoutNVML(t *testing.T) {
	p := start(t, nil, "--listen", "127.0.0.1:0", "--log-format", "json", "--nvml-library", "/nonexistent/libnvidia-ml.so.1")
	body := scrape(t, "http://"+p.addr+"/metrics")
	if !strings.Contains(body, "\ngpuwd_nvml_up 0\n") {
		t.Error("want gpuwd_nvml_up 0")
	}
	p.stop(t)
}

func TestBinaryRejectsBadConfiguration(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--sample-interval", "soon"}, "", "sample-interval"},
		{nil, "GPUWD_SAMPLE_INTERVAL=soon", "GPUWD_SAMPLE_INTERVAL"},
		{[]string{"--no-such-flag"}, "", "no-such-flag"},
		{[]string{"--log-level", "loud"}, "", "log level"},
		// A worker without its head: the variable a pod sets is named.
		{nil, "GPUWD_SLURM_ROLE=worker", "--slurm-conf-server (GPUWD_SLURM_CONF_SERVER)"},
		{[]string{"--aggregator-url", "ftp://x"}, "", "--aggregator-url (GPUWD_AGGREGATOR_URL)"},
	} {
		cmd := exec.Command(binary, c.args...)
		cmd.Env = append(os.Environ(), c.env)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("%v %s: err = %v, want exit 2", c.args, c.env, err)
		}
		if !strings.Contains(string(out), c.want) {
			t.Errorf("%v %s: output does not name %q:\n%s", c.args, c.env, c.want, out)
		}
	}
	// A bad --simulate is a runtime error: exit 1 with one clear line.
	out, err := exec.Command(binary, "--simulate", "v100x8", "--listen", "127.0.0.1:0").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), `unknown GPU model \"v100\"`) {
		t.Errorf("bad --simulate: err=%v out=%s", err, out)
	}
}

func TestBinaryRegistersWithTheAggregator(t *testing.T) {
	type call struct{ path, auth, body string }
	calls := make(chan call, 100)
	agg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		calls <- call{r.URL.Path, r.Header.Get("Authorization"), string(b)}
		io.WriteString(w, `{"status":"success","data":{"heartbeat_seconds":30,"job":"gpuwd-agent","instance":"x"}}`)
	}))
	defer agg.Close()
	const token = "tok-E2E-S3CRET"
	p := start(t, []string{"GPUWD_AGGREGATOR_URL=" + agg.URL, "GPUWD_TOKEN=" + token, "RUNPOD_POD_ID=", "RUNPOD_PUBLIC_IP="},
		"--simulate", "h100x2", "--listen", "127.0.0.1:0", "--log-format", "json", "--hostname", "node-e2e",
		"--register-labels", "team=ml")
	var c call
	select {
	case c = <-calls:
	case <-time.After(30 * time.Second):
		t.Fatal("no registration")
	}
	want := `{"url":"http://` + p.addr + `/metrics","node":"node-e2e","pod_id":"","version":"e2e-1.0","gpus":2,` +
		`"gpu_models":["NVIDIA H100 80GB HBM3"],"labels":{"team":"ml"}}`
	if c.path != "/api/v1/agents/register" || c.auth != "Bearer "+token || c.body != want {
		t.Errorf("registration: %s %q\n%s\nwant\n%s", c.path, c.auth, c.body, want)
	}
	var log []string
	for registered := false; !registered; {
		select {
		case line, ok := <-p.log:
			if !ok {
				t.Fatalf("agent exited:\n%s", strings.Join(log, "\n"))
			}
			log = append(log, line)
			registered = strings.Contains(line, `"msg":"registered with the aggregator"`)
		case <-time.After(30 * time.Second):
			t.Fatal("registration not logged")
		}
	}
	rest := strings.Join(log, "\n") + "\n" + p.stop(t)
	select {
	case c = <-calls:
	case <-time.After(30 * time.Second):
		t.Fatalf("no deregistration on shutdown:\n%s", rest)
	}
	if c.path != "/api/v1/agents/deregister" || c.body != `{"url":"http://`+p.addr+`/metrics"}` {
		t.Errorf("on shutdown: %s %s", c.path, c.body)
	}
	if strings.Contains(rest, "S3CRET") || !strings.Contains(rest, "deregistered from the aggregator") {
		t.Errorf("log:\n%s", rest)
	}

	// Registration without a token is refused at start, as a bad setting.
	out, err := exec.Command(binary, "--aggregator-url", agg.URL, "--listen", "127.0.0.1:0").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "needs --token") {
		t.Errorf("no token: err=%v out=%s", err, out)
	}
}
