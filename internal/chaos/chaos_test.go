package chaos

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	_ "modernc.org/sqlite" // integrity checks of the data directories

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/api"
	"github.com/gpu-watchdog/gpu-watchdog/internal/metrictest"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// The real programs, built once for every scenario.
var gpuwdBin, agentBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gpuwd-chaos")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if gpuwdBin, err = testenv.BuildGpuwd(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	if agentBin, err = testenv.BuildAgent(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// summary logs the scenario's one-line outcome, which `make chaos` collects.
func summary(t *testing.T, scenario, format string, args ...any) {
	t.Helper()
	t.Logf("chaos: %s: %s", scenario, fmt.Sprintf(format, args...))
}

// seeded returns the scenario's random source, its seed from
// GPUWD_CHAOS_SEED or the clock, logged so that a failure can be replayed.
func seeded(t *testing.T) (*rand.Rand, uint64) {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("GPUWD_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("GPUWD_CHAOS_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (GPUWD_CHAOS_SEED=%d replays it)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seed
}

// proc is a running program whose log is kept.
type proc struct {
	name string
	cmd  *exec.Cmd
	addr string // from its "serving" log line
	mu   sync.Mutex
	log  strings.Builder
	done chan struct{}
}

// launch starts bin with args (and --log-format json) and waits for its
// "serving" log line.
func launch(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	return launchCmd(t, nil, append([]string{bin}, append(args, "--log-format", "json")...))
}

// launchCmd starts argv with extra environment and waits for the "serving"
// log line. The process dies with the test binary (parent-death signal),
// and is killed at the end of the test.
func launchCmd(t *testing.T, env []string, argv []string) *proc {
	t.Helper()
	p := &proc{name: filepath.Base(argv[0]), cmd: exec.Command(argv[0], argv[1:]...), done: make(chan struct{})}
	for _, a := range argv { // name it after the program a wrapper (nsenter) runs
		if a == gpuwdBin || a == agentBin {
			p.name = filepath.Base(a)
			break
		}
	}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = p.cmd.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	served := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
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
		_ = p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGCONT) // in case it was stopped
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s (pid %d) log, last 8 KiB:\n%s", p.name, p.cmd.Process.Pid, tail(p.logs(), 8<<10))
		}
	})
	select {
	case p.addr = <-served:
	case <-p.done:
		t.Fatalf("%s exited before serving:\n%s", p.name, p.logs())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not serve within 60s:\n%s", p.name, p.logs())
	}
	return p
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *proc) url(path string) string { return "http://" + p.addr + path }

// signal sends sig; stop sends sig and waits for the exit.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%s: %v: %v", p.name, sig, err)
	}
}

func (p *proc) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p.signal(t, sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not exit within 30s of %v", p.name, sig)
	}
}

// logCount counts the JSON log records of level whose text matches re.
func (p *proc) logCount(level string, re *regexp.Regexp) int {
	n := 0
	for line := range strings.Lines(p.logs()) {
		var rec struct{ Level string }
		if json.Unmarshal([]byte(line), &rec) == nil && (level == "" || rec.Level == level) && re.MatchString(line) {
			n++
		}
	}
	return n
}

// freeAddr is a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// writeFiles writes name → content into dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// scaledRules copies a rule file of the default pack (packaging/rules) into
// dir with every for and keep_firing_for divided by 60 (5m becomes 5s), so
// that a scenario sees in seconds what the pack does in minutes. The
// expressions, labels and annotations are the pack's own.
func scaledRules(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "packaging", "rules", name))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^(\s+(?:for|keep_firing_for):\s*)(\S+)\s*$`)
	out := re.ReplaceAllStringFunc(string(b), func(line string) string {
		m := re.FindStringSubmatch(line)
		d, err := model.ParseDuration(m[2])
		if err != nil {
			t.Fatalf("%s: %q: %v", name, line, err)
		}
		return m[1] + model.Duration(max(time.Duration(d)/60, time.Second)).String()
	})
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// getJSON GETs url into v (the Prometheus envelope's data when there is
// one); false when the request failed.
func getJSON(url string, v any) bool {
	resp, err := httpClient.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	return json.NewDecoder(resp.Body).Decode(v) == nil
}

// post POSTs an empty body and fails the test unless it gets 200.
func post(t *testing.T, url string) {
	t.Helper()
	resp, err := httpClient.Post(url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, body)
	}
}

// status GETs url and returns the status code (0 when unreachable).
func status(url string) int {
	resp, err := httpClient.Get(url)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// metricFamilies scrapes a /metrics page.
func metricFamilies(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

// metric is the value of name{labels…} on a /metrics page, or -1 when the
// page or the series is missing.
func metric(url, name string, labels ...string) float64 {
	fams, err := metricFamilies(url)
	if err != nil {
		return -1
	}
	return metrictest.Value(fams, name, labels...)
}

// eventually polls cond every 100ms until it holds or limit passes.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}

// query runs an instant query at ts (zero: now).
func query(c *api.Client, q string, ts time.Time) (model.Vector, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := c.Query(ctx, q, ts)
	if err != nil {
		return nil, err
	}
	v, ok := res.Value.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("%s: %s, not a vector", q, res.Value.Type())
	}
	return v, nil
}

// scalarOf is the single value of q at ts, or -1 when the result is empty.
func scalarOf(t *testing.T, c *api.Client, q string, ts time.Time) float64 {
	t.Helper()
	v, err := query(c, q, ts)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if len(v) == 0 {
		return -1
	}
	if len(v) > 1 {
		t.Fatalf("%s: %d series, want one: %v", q, len(v), v)
	}
	return float64(v[0].Value)
}

// waitQuery polls q until ok accepts its result.
func waitQuery(t *testing.T, c *api.Client, q string, limit time.Duration, ok func(model.Vector) bool) model.Vector {
	t.Helper()
	var last model.Vector
	var lastErr error
	deadline := time.Now().Add(limit)
	for {
		last, lastErr = query(c, q, time.Time{})
		if lastErr == nil && ok(last) {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never satisfied the test within %v (last: %v, %v)", q, limit, last, lastErr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkSQLite runs PRAGMA integrity_check on every SQLite file under dir
// (gpuwd.db, alerts.db, …), each opened read-only, so that the check sees
// the files exactly as the last process left them. It returns how many it
// checked.
func checkSQLite(t *testing.T, dir string) int {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && isSQLite(path) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no SQLite file under %s", dir)
	}
	for _, f := range files {
		db, err := sql.Open("sqlite", "file:"+f+"?mode=ro&_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query("PRAGMA integrity_check")
		if err != nil {
			db.Close()
			t.Fatalf("%s: integrity_check: %v", f, err)
		}
		var problems []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			if s != "ok" {
				problems = append(problems, s)
			}
		}
		rows.Close()
		db.Close()
		if len(problems) > 0 {
			t.Fatalf("%s is corrupt: %s", f, strings.Join(problems, "; "))
		}
	}
	return len(files)
}

// isSQLite reports whether path starts with SQLite's file header.
func isSQLite(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 16)
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == "SQLite format 3\x00"
}
