package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type reply struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

// call sends one request to the Manager's handler; token "" sends none.

func (h *harness) call(t *testing.T, method, path, token, body string) (*httptest.ResponseRecorder, reply) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "10.0.0.5:51234"
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.m.Handler().ServeHTTP(rec, req)
	var r reply
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("%s %s: %d, body not JSON: %v: %q", method, path, rec.Code, err, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	return rec, r
}

func (h *harness) register(t *testing.T, body string) reply {
	t.Helper()
	rec, r := h.call(t, "POST", "/api/v1/agents/register", testToken, body)
	if rec.Code != http.StatusOK {
		t.Fatalf("register: %d %+v", rec.Code, r)
	}
	return r
}

func TestRegisterRejectsBadRequests(t *testing.T) {
	h := newHarness(t, regConfig, "", Options{})
	many := map[string]string{}
	for i := range 33 {
		many[fmt.Sprintf("l%d", i)] = "v"
	}
	manyJSON, _ := json.Marshal(many)
	tests := []struct {
		name, body, wantErr string
	}{
		{"not JSON", `{"url": `, "not the expected JSON"},
		{"wrong type", `{"url": "http://a:1/metrics", "gpus": "8"}`, "not the expected JSON"},
		{"no url", `{"node": "a"}`, `"url" is missing`},
		{"url without scheme", `{"url": "10.0.0.5:9400"}`, `"url"`},
		{"ftp url", `{"url": "ftp://a:1/metrics"}`, "not an http(s) URL"},
		{"url with a query", `{"url": "http://a:1/metrics?x=1"}`, "query and fragment are not allowed"},
		{"url with user info", `{"url": "http://u:p@a:1/metrics"}`, "user info"},
		{"invalid label name", `{"url": "http://a:1/metrics", "labels": {"bad-name": "x"}}`, `"bad-name" is not a valid`},
		{"reserved label", `{"url": "http://a:1/metrics", "labels": {"__scheme__": "https"}}`, "reserved"},
		{"job label", `{"url": "http://a:1/metrics", "labels": {"job": "x"}}`, `"job" is set by the aggregator`},
		{"instance label", `{"url": "http://a:1/metrics", "labels": {"instance": "x"}}`, `"instance" is set by the aggregator`},
		{"too many labels", `{"url": "http://a:1/metrics", "labels": ` + string(manyJSON) + `}`, "33 labels, more than 32"},
		{"long label value", `{"url": "http://a:1/metrics", "labels": {"x": "` + strings.Repeat("v", 1025) + `"}}`, "longer than 1024"},
		{"long node", `{"url": "http://a:1/metrics", "node": "` + strings.Repeat("n", 257) + `"}`, `"node" is longer`},
		{"long version", `{"url": "http://a:1/metrics", "version": "` + strings.Repeat("n", 257) + `"}`, `"version" is longer`},
		{"negative gpus", `{"url": "http://a:1/metrics", "gpus": -1}`, `"gpus" -1`},
		{"too many models", `{"url": "http://a:1/metrics", "gpu_models": [` + strings.Repeat(`"m",`, 64) + `"m"]}`, "65 entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, r := h.call(t, "POST", "/api/v1/agents/register", testToken, tt.body)
			if rec.Code != 400 || r.Status != "error" || r.ErrorType != "bad_data" || !strings.Contains(r.Error, tt.wantErr) {
				t.Errorf("%d %+v, want 400 bad_data containing %q", rec.Code, r, tt.wantErr)
			}
		})
	}
	if len(h.m.Targets()) != 0 || len(h.m.Agents()) != 0 {
		t.Errorf("a rejected request registered something: %+v", h.m.Agents())
	}
	if got := h.metric(t, "gpuwd_sd_agent_requests_total", "endpoint", "register", "code", "400"); got != float64(len(tests)) {
		t.Errorf("gpuwd_sd_agent_requests_total{code=400} = %v", got)
	}
}

func TestRegisterBodyLimit(t *testing.T) {
	h := newHarness(t, regConfig, "", Options{})
	big := `{"url": "http://a:1/metrics", "node": "` + strings.Repeat("x", 64<<10) + `"}`
	rec, r := h.call(t, "POST", "/api/v1/agents/register", testToken, big)
	if rec.Code != http.StatusRequestEntityTooLarge || r.Status != "error" {
		t.Errorf("declared length: %d %+v", rec.Code, r)
	}
	// Without a Content-Length (chunked), the reader stops it.
	req := httptest.NewRequest("POST", "/api/v1/agents/register", struct{ *strings.Reader }{strings.NewReader(big)})
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec = httptest.NewRecorder()
	h.m.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked: %d %s", rec.Code, rec.Body)
	}
}

func TestAgentEndpointsNeedTheToken(t *testing.T) {
	h := newHarness(t, regConfig, "", Options{})
	const presented = "guessed-token-XYZZY"
	endpoints := []struct{ method, path, body string }{
		{"POST", "/api/v1/agents/register", registerBody("http://10.9.9.9:9400/metrics", "1")},
		{"POST", "/api/v1/agents/deregister", `{"url": "http://10.9.9.9:9400/metrics"}`},
		{"GET", "/api/v1/agents", ""},
	}
	for _, e := range endpoints {
		for _, token := range []string{"", presented, testToken + "x", testToken[:len(testToken)-1]} {
			rec, r := h.call(t, e.method, e.path, token, e.body)
			if rec.Code != 401 || r.Status != "error" || r.ErrorType != "unauthorized" {
				t.Errorf("%s %s with token %q: %d %+v", e.method, e.path, token, rec.Code, r)
			}
			if rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", e.method, e.path)
			}
		}
	}
	if len(h.m.Agents()) != 0 {
		t.Error("an unauthorized registration was accepted")
	}
	logs := h.logs.String()
	for _, want := range []string{"level=WARN", "10.0.0.5:51234", "http://10.9.9.9:9400/metrics", "endpoint=register"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
	for _, secret := range []string{presented, testToken} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log shows a token (%q):\n%s", secret, logs)
		}
	}

	// Any case of "Bearer" will do, as RFC 7235 says.
	req := httptest.NewRequest("GET", "/api/v1/agents", nil)
	req.Header.Set("Authorization", "bearer "+testToken)
	rec := httptest.NewRecorder()
	h.m.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("lower-case bearer: %d", rec.Code)
	}
}

func TestRegistrationDisabledWithoutToken(t *testing.T) {
	h := newHarness(t, "", "", Options{})
	for _, e := range []struct{ method, path string }{
		{"POST", "/api/v1/agents/register"}, {"POST", "/api/v1/agents/deregister"}, {"GET", "/api/v1/agents"},
	} {
		rec, r := h.call(t, e.method, e.path, "anything", registerBody(agentURL, "1"))
		if rec.Code != 403 || r.ErrorType != "forbidden" || !strings.Contains(r.Error, "registration.token") {
			t.Errorf("%s %s: %d %+v", e.method, e.path, rec.Code, r)
		}
	}
}

func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "token"), testToken+"\n")
	h := newHarness(t, "registration:\n  token_file: token\n", dir, Options{})
	h.register(t, registerBody(agentURL, "1"))

	writeFile(t, filepath.Join(dir, "token"), "\n")
	_, err := New(context.Background(), parseConfig(t, "registration:\n  token_file: token\n", dir), Options{})
	if err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty token file: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "token")); err != nil {
		t.Fatal(err)
	}
	if err := h.m.ApplyConfig(parseConfig(t, "registration:\n  token_file: token\n", dir)); err == nil {
		t.Error("a missing token file was accepted")
	}
	h.register(t, registerBody(agentURL, "1")) // the failed reload changed nothing
}

func TestDeregisterAndList(t *testing.T) {
	h := newHarness(t, regConfig, "", Options{})
	h.register(t, registerBody(agentURL, "1"))
	h.register(t, registerBody("https://abc-9400.proxy.runpod.net/metrics", "1"))

	_, r := h.call(t, "GET", "/api/v1/agents", testToken, "")
	var list []map[string]any
	if err := json.Unmarshal(r.Data, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0]["url"] != agentURL || list[0]["instance"] != "10.0.0.5:9400" ||
		list[0]["job"] != "gpuwd-agent" || list[0]["node"] != "node-a" || list[0]["last_seen"] == nil ||
		list[1]["url"] != "https://abc-9400.proxy.runpod.net:443/metrics" || list[1]["instance"] != "abc-9400.proxy.runpod.net:443" {
		t.Errorf("list = %v", list)
	}

	// The URL without its default port names the same agent.
	_, r = h.call(t, "POST", "/api/v1/agents/deregister", testToken, `{"url": "https://abc-9400.proxy.runpod.net/metrics"}`)
	if string(r.Data) != `{"removed":true}` {
		t.Errorf("deregister: %+v", r)
	}
	_, r = h.call(t, "POST", "/api/v1/agents/deregister", testToken, `{"url": "https://abc-9400.proxy.runpod.net/metrics"}`)
	if string(r.Data) != `{"removed":false}` {
		t.Errorf("second deregister: %+v", r)
	}
	if got := addresses(h.m.Targets()); !reflect.DeepEqual(got, []string{"10.0.0.5:9400"}) {
		t.Errorf("targets = %v", got)
	}
	if data, _, _ := h.kv.snapshot(); len(data) != 1 || data[agentKey] == nil {
		t.Errorf("store = %v", slices.Collect(maps.Keys(data)))
	}
	if rec, r := h.call(t, "POST", "/api/v1/agents/deregister", testToken, `{"url": "nope"}`); rec.Code != 400 || r.ErrorType != "bad_data" {
		t.Errorf("bad deregister: %d %+v", rec.Code, r)
	}
}
