package discovery

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// FuzzRegister sends a fuzzed body to the registration endpoint through the
// Manager's real handler, with the right token, twice (a registration, then
// its heartbeat), then deregisters the URL it names. Every answer is 200,
// 400 or 413 with Prometheus' envelope, never 5xx or a panic; 200 only for
// a registration within the limits; and after each request every registered
// agent is a valid target whose URL is its own canonical form, and a
// restart on the same store restores the same agents. Under another scheme
// than Bearer the answer is 401 and nothing is registered.
func FuzzRegister(f *testing.F) {
	f.Add([]byte(registerBody(agentURL, "1.0")), "Bearer")
	f.Add([]byte(`{"url": "https://abc-9400.proxy.runpod.net/metrics", "gpus": 0}`), "bearer")
	f.Add([]byte(`{"url": "http://[fe80::1]:9400", "labels": {"rack": "r1", "a_b": ""}}`), "BEARER")
	f.Add([]byte(`{"url": "http://node/custom/path", "gpu_models": [], "labels": {}}`), "Bearer")
	f.Add([]byte(registerBody(agentURL, "1.0")), "Basic")
	f.Add([]byte(`{"url": "http://a:1/metrics", "node": "\u00e9\u2603", "version": "v", "pod_id": "p", "unknown": [1]}`), "Bearer")
	for _, body := range []string{
		"", "null", "[]", `{"url": `, `{"url": "http://a:1/metrics", "gpus": "8"}`, `{"node": "a"}`, `{"url": "10.0.0.5:9400"}`,
		`{"url": "ftp://a:1/metrics"}`, `{"url": "http://a:1/metrics?x=1"}`, `{"url": "http://u:p@a:1/metrics"}`,
		`{"url": "http://a:1/metrics", "labels": {"bad-name": "x"}}`, `{"url": "http://a:1/metrics", "labels": {"__scheme__": "https"}}`,
		`{"url": "http://a:1/metrics", "labels": {"job": "x", "instance": "y"}}`, `{"url": "http://a:1/metrics", "gpus": -1}`,
		`{"url": "http://a:1/metrics", "gpus": 1e30}`, `{"url": "http://a:1/metrics", "node": "\xff"}`,
		`{"url": "http://a:1/metrics", "labels": {"x": "\ud800"}}`, `{"url": "http://a:1/a%20b"}`, `{"url": "http://[fe80::1%25eth0]/metrics"}`,
		`{"url": "http://a:99999/metrics"}`, `{"url": "http://a:0/metrics"}`, `{"url": "HTTP://A:1/metrics"}`, `{"url": "http://a:1/metrics#f"}`,
		`{"url": "http://a:1/metrics"} {"url": "http://b:1/metrics"}`, `{"url": "http://a:1/metrics", "url": "http://b:1/metrics"}`,
	} {
		f.Add([]byte(body), "Bearer")
	}
	f.Fuzz(func(t *testing.T, body []byte, scheme string) {
		if strings.ContainsAny(scheme, " \r\n") {
			return // not a scheme
		}
		h := newHarness(t, regConfig, "", Options{})
		if !strings.EqualFold(scheme, "Bearer") {
			if code, r := fuzzCall(t, h, "/api/v1/agents/register", scheme, body); code != http.StatusUnauthorized || len(h.m.reg.list()) != 0 {
				t.Fatalf("scheme %q: %d %+v", scheme, code, r)
			}
			return
		}
		var req struct {
			URL string `json:"url"`
		}
		_ = json.Unmarshal(body, &req)
		for i := range 2 {
			code, r := fuzzCall(t, h, "/api/v1/agents/register", scheme, body)
			switch code {
			case http.StatusOK:
				checkAccepted(t, body)
				if _, err := target.FromURL("", req.URL); err != nil {
					t.Fatalf("registration %d of %q accepted a bad url: %v", i, body, err)
				}
			case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
				if r.ErrorType != errorBadData {
					t.Fatalf("%d with errorType %q", code, r.ErrorType)
				}
			default:
				t.Fatalf("registration %d of %q: %d %+v", i, body, code, r)
			}
			checkRegistry(t, h)
		}
		dereg, _ := json.Marshal(req)
		if code, r := fuzzCall(t, h, "/api/v1/agents/deregister", scheme, dereg); code != http.StatusOK && code != http.StatusBadRequest {
			t.Fatalf("deregistration of %q: %d %+v", dereg, code, r)
		}
		checkRegistry(t, h)
	})
}

// fuzzCall posts body with the right token and returns the status and the
// decoded envelope, failing on a reply that is not one.
func fuzzCall(t *testing.T, h *harness, path, scheme string, body []byte) (int, reply) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
	req.RemoteAddr = "10.0.0.5:51234"
	req.Header.Set("Authorization", scheme+" "+testToken)
	rec := httptest.NewRecorder()
	h.m.Handler().ServeHTTP(rec, req)
	var r reply
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("%s: %d, reply not JSON: %v: %q", path, rec.Code, err, rec.Body.String())
	}
	if (r.Status == "success") != (rec.Code == http.StatusOK) {
		t.Fatalf("%s: %d with status %q", path, rec.Code, r.Status)
	}
	return rec.Code, r
}

// checkAccepted checks, apart from the handler's own checks, that an
// accepted body is within the documented limits.
func checkAccepted(t *testing.T, body []byte) {
	t.Helper()
	var req registerRequest
	if len(body) > maxBodyBytes || json.Unmarshal(body, &req) != nil {
		t.Fatalf("accepted a body that is not a registration: %q", body)
	}
	if len(req.URL) > maxURLBytes || req.GPUs < 0 || req.GPUs > maxGPUs || len(req.GPUModels) > maxGPUModels || len(req.Labels) > maxLabels {
		t.Fatalf("accepted a registration over the limits: %q", body)
	}
	for _, s := range append([]string{req.Node, req.PodID, req.Version}, req.GPUModels...) {
		if len(s) > maxFactBytes || !utf8.ValidString(s) {
			t.Fatalf("accepted a fact %q", s)
		}
	}
	for name, v := range req.Labels {
		if !config.CheckLabelName(name) || strings.HasPrefix(name, "__") || name == model.JobLabel || name == model.InstanceLabel ||
			len(v) > maxLabelValue || !utf8.ValidString(v) {
			t.Fatalf("accepted label %q=%q", name, v)
		}
	}
}

// checkRegistry checks that every registered agent is a target, whose URL
// is the agent's (its canonical form: registering it again names the same
// agent), and that a restart on the same store restores the same agents.
func checkRegistry(t *testing.T, h *harness) {
	t.Helper()
	agents := h.m.reg.list()
	for _, a := range agents {
		tg, err := a.target("gpuwd-agent")
		if err != nil {
			t.Fatalf("registered agent %q is not a target: %v", a.URL, err)
		}
		if tg.URL() != a.URL {
			t.Fatalf("registered agent %q is scraped at %q", a.URL, tg.URL())
		}
		if c, err := canonicalURL(a.URL); err != nil || c != a.URL {
			t.Fatalf("registered agent %q: canonical form %q, %v", a.URL, c, err)
		}
	}
	if n := len(h.m.reg.targets()); n != len(agents) {
		t.Fatalf("%d agents, %d targets", len(agents), n)
	}
	restarted := &harness{kv: h.kv, clock: h.clock, logs: h.logs}
	restarted.start(t, h.cfg, Options{})
	if got := restarted.m.reg.list(); !reflect.DeepEqual(stripSaved(got), stripSaved(agents)) {
		t.Fatalf("after a restart:\n%+v\nwant\n%+v", got, agents)
	}
}

// stripSaved leaves out what the store does not keep exactly (time zones
// and monotonic readings).
func stripSaved(as []Agent) []Agent {
	out := make([]Agent, len(as))
	for i, a := range as {
		a.FirstSeen, a.LastSeen = a.FirstSeen.UTC().Round(0), a.LastSeen.UTC().Round(0)
		out[i] = a
	}
	return out
}

// FuzzFileSD feeds a file_sd file (JSON or YAML, by the fuzzed name's
// extension) to its parser: an error or targets, never a panic, and every
// target is one a static_configs entry could have been: a host:port, the
// job's, http or https, a path, labels Prometheus accepts.
func FuzzFileSD(f *testing.F) {
	for _, s := range []struct{ path, body string }{
		{"/sd/a.json", `[{"targets": ["10.0.0.1:9400", "gpu2"], "labels": {"rack": "r1"}}, {"targets": ["10.0.0.3:9400"]}]`},
		{"/sd/b.yml", "- targets: [gpu1]\n  labels:\n    __scheme__: https\n    __metrics_path__: /gpu/metrics\n    __meta_rack: r7\n    team: ml\n"},
		{"/sd/e.yaml", ""},
		{"/sd/e.json", ""},
		{"/sd/a.json", "[\n{\"targets\": [\"a:1\"]},\n{\"targets\": [\"b:1\",]}\n]"},
		{"/sd/a.json", `[{"targets": "a:1", "label": {}}]`},
		{"/sd/a.json", `[{"targets": ["a:1"], "labels": {"__scheme__": "ftp", "__metrics_path__": "x", "__address__": "b:1", "a-b": "\ud800"}}]`},
		{"/sd/a.yaml", "- targets: ['[::1]:9400', '::1', 'a:0', 'a:65536', 'http://a:1', ':1']\n"},
		{"/sd/a.txt", "[]"},
	} {
		f.Add(s.path, []byte(s.body))
	}
	sc := config.ScrapeConfig{JobName: "gpu", Scheme: "http", MetricsPath: "/metrics"}
	f.Fuzz(func(t *testing.T, path string, b []byte) {
		ts, err := parseFileSD(sc, path, b)
		if err != nil {
			return
		}
		for _, tg := range ts {
			switch {
			case tg.Job != sc.JobName, tg.Scheme != "http" && tg.Scheme != "https", !strings.HasPrefix(tg.MetricsPath, "/"):
				t.Fatalf("target %+v", tg)
			case config.CheckTarget(tg.Address) != nil || !strings.Contains(tg.Address, ":"):
				t.Fatalf("target address %q", tg.Address)
			case config.CheckLabels(tg.Labels) != nil:
				t.Fatalf("target labels %v", tg.Labels)
			}
			for name, v := range tg.Labels {
				if !utf8.ValidString(v) {
					t.Fatalf("target label %q=%q", name, v)
				}
			}
		}
	})
}
