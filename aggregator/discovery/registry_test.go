package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	testToken   = "s3cret-registration-token"
	regConfig   = "registration:\n  token: " + testToken + "\n"
	agentURL    = "http://10.0.0.5:9400/metrics"
	agentKey    = "agent/" + agentURL
	agentReqFmt = `{"url": %q, "node": "node-a", "pod_id": "pod-1", "version": "%s", "gpus": 8,
		"gpu_models": ["NVIDIA H100 80GB HBM3"], "labels": {"cluster": "train", "team": "ml"}}`
)

func registerBody(url, version string) string { return fmt.Sprintf(agentReqFmt, url, version) }

func TestRegisterHeartbeatAndPersistence(t *testing.T) {
	h := newHarness(t, regConfig, "", Options{PersistInterval: 5 * time.Minute})
	rec, _ := h.call(t, "POST", "/api/v1/agents/register", testToken, registerBody(agentURL, "1.0"))
	if rec.Code != 200 {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	wantReply := `{"status":"success","data":{"heartbeat_seconds":30,"job":"gpuwd-agent","instance":"10.0.0.5:9400"}}`
	if got := strings.TrimSpace(rec.Body.String()); got != wantReply {
		t.Errorf("reply\n got %s\nwant %s", got, wantReply)
	}
	ts := h.m.Targets()
	if len(ts) != 1 {
		t.Fatalf("targets = %+v", ts)
	}
	tg := ts[0]
	wantMeta := map[string]string{"gpuwd_node": "node-a", "gpuwd_pod_id": "pod-1", "gpuwd_version": "1.0",
		"gpuwd_gpus": "8", "gpuwd_gpu_models": "NVIDIA H100 80GB HBM3"}
	if tg.Job != "gpuwd-agent" || tg.URL() != agentURL || tg.Source != "registered" ||
		!reflect.DeepEqual(tg.Labels, map[string]string{"cluster": "train", "team": "ml"}) || !reflect.DeepEqual(tg.Meta, wantMeta) {
		t.Errorf("target = %+v", tg)
	}
	data, puts, _ := h.kv.snapshot()
	if puts != 1 || data[agentKey] == nil {
		t.Fatalf("after the first registration: %d puts, keys %v", puts, slices.Collect(maps.Keys(data)))
	}

	// Heartbeats: last-seen moves, nothing is written.
	for range 5 {
		h.clock.Advance(30 * time.Second)
		h.register(t, registerBody(agentURL, "1.0"))
	}
	if _, puts, _ := h.kv.snapshot(); puts != 1 {
		t.Errorf("heartbeats wrote to the store: %d puts", puts)
	}
	if as := h.m.Agents(); len(as) != 1 || !as[0].LastSeen.Equal(h.clock.Now()) || as[0].FirstSeen.Equal(as[0].LastSeen) {
		t.Errorf("agents = %+v", as)
	}

	// A changed fact is written at once and shows in the target.
	h.register(t, registerBody(agentURL, "1.1"))
	if _, puts, _ := h.kv.snapshot(); puts != 2 {
		t.Errorf("a new version was not written: %d puts", puts)
	}
	if got := h.m.Targets()[0].Meta["gpuwd_version"]; got != "1.1" {
		t.Errorf("gpuwd_version = %q", got)
	}

	// Last-seen catches up once it is PersistInterval stale.
	h.m.reg.maintain(context.Background(), h.clock.Now())
	if _, puts, _ := h.kv.snapshot(); puts != 2 {
		t.Errorf("a fresh record was rewritten: %d puts", puts)
	}
	h.clock.Advance(5 * time.Minute)
	h.register(t, registerBody(agentURL, "1.1"))
	h.m.reg.maintain(context.Background(), h.clock.Now())
	data, puts, _ = h.kv.snapshot()
	var saved Agent
	if err := json.Unmarshal(data[agentKey], &saved); err != nil {
		t.Fatal(err)
	}
	if puts != 3 || !saved.LastSeen.Equal(h.clock.Now()) {
		t.Errorf("last-seen not caught up: %d puts, saved %v, now %v", puts, saved.LastSeen, h.clock.Now())
	}

	// A restart finds the agent before its next heartbeat.
	before := h.m.Targets()
	h.start(t, h.cfg, Options{})
	if got := h.m.Targets(); !reflect.DeepEqual(got, before) {
		t.Errorf("after a restart\n got %+v\nwant %+v", got, before)
	}
	if as := h.m.Agents(); len(as) != 1 || as[0].Node != "node-a" || as[0].RemoteAddr != "10.0.0.5" {
		t.Errorf("agents after a restart = %+v", as)
	}
}

func TestSilentAgentsAreForgotten(t *testing.T) {
	cfg := regConfig + "  heartbeat: 30s\n  forget_after: 10m\n"
	h := newHarness(t, cfg, "", Options{})
	h.register(t, registerBody(agentURL, "1"))
	h.clock.Advance(5 * time.Minute)
	h.register(t, registerBody("http://10.0.0.6:9400/metrics", "1"))

	h.clock.Advance(5*time.Minute + time.Second)
	h.m.reg.maintain(context.Background(), h.clock.Now())
	if got := addresses(h.m.Targets()); !reflect.DeepEqual(got, []string{"10.0.0.6:9400"}) {
		t.Errorf("targets = %v", got)
	}
	if data, _, _ := h.kv.snapshot(); data[agentKey] != nil {
		t.Error("a forgotten agent stays in the store")
	}
	if got := h.metric(t, "gpuwd_sd_agents_forgotten_total"); got != 1 {
		t.Errorf("forgotten_total = %v", got)
	}
	if !strings.Contains(h.logs.String(), "registered agent forgotten") {
		t.Errorf("log:\n%s", h.logs)
	}

	// A restart long after forgets the other one too, in the store as well.
	h.clock.Advance(time.Hour)
	h.start(t, h.cfg, Options{})
	if ts := h.m.Targets(); len(ts) != 0 {
		t.Errorf("a stale stored agent came back: %v", ts)
	}
	if data, _, _ := h.kv.snapshot(); len(data) != 0 {
		t.Errorf("store = %v", slices.Collect(maps.Keys(data)))
	}
}

func TestStoreFailuresAreRetried(t *testing.T) {
	h := newHarness(t, regConfig, "", Options{})
	h.kv.setFail(errStoreDown)
	rec, r := h.call(t, "POST", "/api/v1/agents/register", testToken, registerBody(agentURL, "1"))
	if rec.Code != 503 || r.ErrorType != "unavailable" {
		t.Errorf("register with the store down: %d %+v", rec.Code, r)
	}
	if len(h.m.Targets()) != 1 {
		t.Error("an agent that could not be saved is not scraped")
	}
	if !strings.Contains(h.logs.String(), "store is down") {
		t.Errorf("log:\n%s", h.logs)
	}
	h.register(t, registerBody(agentURL, "1")) // the heartbeat needs no write
	h.kv.setFail(nil)
	h.m.reg.maintain(context.Background(), h.clock.Now())
	if data, _, _ := h.kv.snapshot(); data[agentKey] == nil {
		t.Fatal("the failed save was not retried")
	}

	h.kv.setFail(errStoreDown)
	rec, _ = h.call(t, "POST", "/api/v1/agents/deregister", testToken, `{"url": "`+agentURL+`"}`)
	if rec.Code != 503 || len(h.m.Targets()) != 0 {
		t.Errorf("deregister with the store down: %d, targets %v", rec.Code, h.m.Targets())
	}
	h.kv.setFail(nil)
	h.m.reg.maintain(context.Background(), h.clock.Now())
	if data, _, _ := h.kv.snapshot(); len(data) != 0 {
		t.Error("the failed delete was not retried")
	}
	if got := h.metric(t, "gpuwd_sd_persist_errors_total"); got != 2 {
		t.Errorf("persist_errors_total = %v, want 2", got)
	}
}

func TestReRegistrationCancelsPendingDelete(t *testing.T) {
	h := newHarness(t, regConfig, "", Options{})
	h.register(t, registerBody(agentURL, "1"))
	h.kv.setFail(errStoreDown)
	h.call(t, "POST", "/api/v1/agents/deregister", testToken, `{"url": "`+agentURL+`"}`)
	h.kv.setFail(nil)
	h.register(t, registerBody(agentURL, "1"))
	h.m.reg.maintain(context.Background(), h.clock.Now())
	if data, _, _ := h.kv.snapshot(); data[agentKey] == nil {
		t.Error("the retried delete removed an agent that had registered again")
	}
}

func TestRunSavesLastSeenAtShutdown(t *testing.T) {
	h := newHarness(t, regConfig, "", Options{})
	h.register(t, registerBody(agentURL, "1"))
	h.clock.Advance(time.Minute)
	h.register(t, registerBody(agentURL, "1"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.m.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	data, _, _ := h.kv.snapshot()
	var a Agent
	if err := json.Unmarshal(data[agentKey], &a); err != nil {
		t.Fatal(err)
	}
	if !a.LastSeen.Equal(h.clock.Now()) {
		t.Errorf("saved last_seen %v, want %v", a.LastSeen, h.clock.Now())
	}
}

func TestCorruptStoredRecordsAreSkipped(t *testing.T) {
	h := newHarness(t, regConfig, "", Options{})
	h.register(t, registerBody(agentURL, "1"))
	h.kv.data["agent/garbage"] = []byte("{")
	h.kv.data["agent/http://x:1/metrics"] = []byte(`{"url": "http://y:1/metrics"}`)
	h.start(t, h.cfg, Options{})
	if got := addresses(h.m.Targets()); !reflect.DeepEqual(got, []string{"10.0.0.5:9400"}) {
		t.Errorf("targets = %v", got)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "agent/garbage") {
		t.Errorf("log:\n%s", logs)
	}
}
