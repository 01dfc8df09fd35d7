package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// aggregatorStub stands in for gpuwd serve's agents API.
type aggregatorStub struct {
	// reply answers the nth (0-based) register with a status and body.
	reply func(n int) (int, string)

	mu          sync.Mutex
	registers   []registration
	deregisters []map[string]string
	auth        []string // Authorization of every request
	contentType []string
}

// replyOK is a success reply asking for heartbeats every seconds.
func replyOK(seconds float64) string {
	return fmt.Sprintf(`{"status":"success","data":{"heartbeat_seconds":%g,"job":"gpuwd-agent","instance":"x:9400"}}`, seconds)
}

func (s *aggregatorStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.contentType = append(s.contentType, r.Header.Get("Content-Type"))
	switch r.URL.Path {
	case "/api/v1/agents/register":
		var body registration
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		code, reply := http.StatusOK, replyOK(30)
		if s.reply != nil {
			code, reply = s.reply(len(s.registers))
		}
		s.registers = append(s.registers, body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprint(w, reply)
	case "/api/v1/agents/deregister":
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		s.deregisters = append(s.deregisters, body) // and a bare 200: the agent must not mind
	default:
		http.NotFound(w, r)
	}
}

func (s *aggregatorStub) registered() []registration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.registers)
}

// listenStub serves s on addr ("127.0.0.1:0" for any port).
func listenStub(t *testing.T, s *aggregatorStub, addr string) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(s)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// registering is an agent that registers with an aggregator.
type registering struct {
	*Agent
	url  string
	log  *logBuffer
	stop func() // ends Serve (deregistering) and waits for it
}

// serveRegistering serves an agent with opts; tweak shortens the
// registrar's timing. The environment it sees is env, not the process's.
func serveRegistering(t *testing.T, opts Options, env map[string]string, tweak func(*registrar)) *registering {
	t.Helper()
	opts.SampleInterval = 100 * time.Millisecond
	if opts.AggregatorToken == "" {
		opts.AggregatorToken = "tok-test"
	}
	logs := &logBuffer{}
	a, err := New(opts, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	a.registrar.advertise.lookup = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if tweak != nil {
		tweak(a.registrar)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &registering{Agent: a, url: "http://" + ln.Addr().String(), log: logs, stop: stop}
}

func fast(r *registrar) { r.retryMin, r.minHeartbeat = 5*time.Millisecond, time.Millisecond }

func TestRegistersWithTokenAndInventory(t *testing.T) {
	stub := &aggregatorStub{}
	agg := listenStub(t, stub, "127.0.0.1:0")
	env := map[string]string{"RUNPOD_POD_ID": "abc123xyz", "RUNPOD_POD_HOSTNAME": "abc123xyz-64410f1e"}
	a := serveRegistering(t, Options{Simulate: "mixed", Version: "1.2.3", AggregatorURL: agg.URL,
		AggregatorToken: "tok-1", RegisterLabels: "team=ml, cluster=eu-1"}, env, nil)
	eventually(t, "a registration", func() bool { return len(stub.registered()) > 0 })

	got := stub.registered()[0]
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(a.url, "http://"))
	want := registration{URL: "https://abc123xyz-" + port + ".proxy.runpod.net/metrics", Node: "abc123xyz-64410f1e",
		PodID: "abc123xyz", Version: "1.2.3", GPUs: 4, Labels: map[string]string{"team": "ml", "cluster": "eu-1"}}
	models := got.GPUModels
	got.GPUModels = nil
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("registered\n %+v\nwant\n %+v", got, want)
	}
	if len(models) < 2 || len(models) > 4 || slices.Contains(models, "") || len(slices.Compact(slices.Sorted(slices.Values(models)))) != len(models) {
		t.Errorf("gpu_models = %q: want the distinct models of a mixed machine", models)
	}
	stub.mu.Lock()
	auth, ct := stub.auth[0], stub.contentType[0]
	stub.mu.Unlock()
	if auth != "Bearer tok-1" || ct != "application/json" {
		t.Errorf("Authorization %q, Content-Type %q", auth, ct)
	}
	eventually(t, "registration in /metrics", func() bool {
		_, body := get(t, a.url+"/metrics")
		return strings.Contains(body, "\ngpuwd_agent_registered 1\n") &&
			strings.Contains(body, `gpuwd_agent_registration_attempts_total{result="success"} 1`) &&
			strings.Contains(body, `gpuwd_agent_registration_attempts_total{result="error"} 0`) &&
			regexp.MustCompile(`\ngpuwd_agent_last_registration_timestamp_seconds [1-9]`).MatchString(body)
	})
	if st := a.registrationStatus(); st == nil || !st.Registered || st.LastError != "" || st.URL != want.URL {
		t.Errorf("status = %+v", st)
	}
}

func TestHeartbeatIsTheIntervalFromTheReply(t *testing.T) {
	// The default heartbeat (30 s) stays: only the reply's makes these come.
	stub := &aggregatorStub{reply: func(int) (int, string) { return 200, replyOK(0.02) }}
	agg := listenStub(t, stub, "127.0.0.1:0")
	serveRegistering(t, Options{Simulate: "h100x1", Hostname: "node-1", AggregatorURL: agg.URL}, nil, fast)
	eventually(t, "four heartbeats", func() bool { return len(stub.registered()) >= 4 })
	regs := stub.registered()
	for _, r := range regs[1:] {
		if fmt.Sprint(r) != fmt.Sprint(regs[0]) {
			t.Fatalf("heartbeat %+v differs from the registration %+v", r, regs[0])
		}
	}
	if regs[0].Node != "node-1" || regs[0].GPUModels[0] != "NVIDIA H100 80GB HBM3" {
		t.Errorf("registration = %+v", regs[0])
	}
}

func TestRegistersAfterTheAggregatorFails(t *testing.T) {
	stub := &aggregatorStub{reply: func(n int) (int, string) {
		if n < 3 {
			return 500, `{"status":"error","errorType":"internal","error":"database is locked"}`
		}
		return 200, replyOK(30)
	}}
	agg := listenStub(t, stub, "127.0.0.1:0")
	a := serveRegistering(t, Options{Simulate: "h100x1", AggregatorURL: agg.URL}, nil, fast)
	eventually(t, "registered after retrying", func() bool {
		st := a.registrationStatus()
		return st.Registered
	})
	if n := len(stub.registered()); n != 4 {
		t.Errorf("%d attempts, want 4", n)
	}
	log := a.log.String()
	if n := strings.Count(log, "cannot register with the aggregator"); n != 1 {
		t.Errorf("failure logged %d times, want once:\n%s", n, log)
	}
	if !strings.Contains(log, "database is locked") || !strings.Contains(log, "registered with the aggregator") {
		t.Errorf("log does not tell the story:\n%s", log)
	}
}

func TestRefusedTokenIsReportedAndNeverLogged(t *testing.T) {
	const token = "tok-S3CRET-8f3a"
	stub := &aggregatorStub{reply: func(int) (int, string) {
		return 401, `{"status":"error","errorType":"unauthorized","error":"unknown token ` + token + `"}`
	}}
	agg := listenStub(t, stub, "127.0.0.1:0")
	aggURL := strings.Replace(agg.URL, "http://", "http://user:pw-S3CRET@", 1) + "/?key=q-S3CRET"
	a := serveRegistering(t, Options{Simulate: "h100x1", AggregatorURL: aggURL, AggregatorToken: token}, nil,
		func(r *registrar) { fast(r); r.heartbeat = 5 * time.Millisecond })
	eventually(t, "retries at the heartbeat", func() bool { return len(stub.registered()) >= 3 })
	eventually(t, "refusal in /metrics", func() bool {
		_, body := get(t, a.url+"/metrics")
		return strings.Contains(body, "\ngpuwd_agent_registered 0\n") &&
			regexp.MustCompile(`gpuwd_agent_registration_attempts_total\{result="error"\} [1-9]`).MatchString(body)
	})
	a.stop()
	log := a.log.String()
	if strings.Contains(log, "S3CRET") {
		t.Errorf("a secret reached the log:\n%s", log)
	}
	var refusals int
	for line := range strings.SplitSeq(log, "\n") {
		if strings.Contains(line, "aggregator refused the registration token") {
			refusals++
			if !strings.Contains(line, `"level":"ERROR"`) || !strings.Contains(line, "401") {
				t.Errorf("refusal line: %s", line)
			}
		}
	}
	if refusals != 1 {
		t.Errorf("refusal logged %d times, want once:\n%s", refusals, log)
	}
	if st := a.registrationStatus(); st.Registered || !strings.Contains(st.LastError, "401") ||
		strings.Contains(st.LastError+st.Aggregator, "S3CRET") {
		t.Errorf("status = %+v", st)
	}
}

func TestReregistersWithAnAggregatorThatCameBack(t *testing.T) {
	first := &aggregatorStub{reply: func(int) (int, string) { return 200, replyOK(0.01) }}
	agg := listenStub(t, first, "127.0.0.1:0")
	a := serveRegistering(t, Options{Simulate: "h100x1", AggregatorURL: agg.URL}, nil, fast)
	eventually(t, "registered", func() bool { return len(first.registered()) > 0 })
	agg.Close()
	eventually(t, "the loss noticed", func() bool { return !a.registrationStatus().Registered })

	second := &aggregatorStub{}
	listenStub(t, second, agg.Listener.Addr().String())
	eventually(t, "registered with the new aggregator", func() bool { return len(second.registered()) > 0 })
	eventually(t, "registered again", func() bool { return a.registrationStatus().Registered })
	if got, want := second.registered()[0].URL, first.registered()[0].URL; got != want {
		t.Errorf("re-registered as %s, first as %s", got, want)
	}
}

func TestDeregistersOnShutdown(t *testing.T) {
	stub := &aggregatorStub{}
	agg := listenStub(t, stub, "127.0.0.1:0")
	a := serveRegistering(t, Options{Simulate: "h100x1", AggregatorURL: agg.URL, AggregatorToken: "tok-2"}, nil, nil)
	eventually(t, "registered", func() bool { return len(stub.registered()) > 0 })
	a.stop()
	stub.mu.Lock()
	defer stub.mu.Unlock()
	want := a.url + "/metrics"
	if len(stub.deregisters) != 1 || stub.deregisters[0]["url"] != want {
		t.Fatalf("deregistrations %v, want one of %s", stub.deregisters, want)
	}
	if auth := stub.auth[len(stub.auth)-1]; auth != "Bearer tok-2" {
		t.Errorf("deregister Authorization %q", auth)
	}
	if !strings.Contains(a.log.String(), "deregistered from the aggregator") {
		t.Error("deregistration not logged")
	}
}
