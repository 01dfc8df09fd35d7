package runpodtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// post sends a GraphQL request and decodes the reply.
func post(t *testing.T, s *Server, key, query string, vars map[string]any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

const createQuery = `mutation C($input: PodFindAndDeployOnDemandInput!) { podFindAndDeployOnDemand(input: $input) { id } }`

func createInput() map[string]any {
	return map[string]any{"input": map[string]any{
		"gpuTypeId": "NVIDIA GeForce RTX 4090", "gpuCount": 1, "imageName": "img", "ports": "9400/http,22/tcp",
		"env": []map[string]string{{"key": "A", "value": "1"}},
	}}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	if code, _ := post(t, s, "wrong", `query { myself { pods { id } } }`, nil); code != http.StatusUnauthorized {
		t.Errorf("wrong key: HTTP %d, want 401", code)
	}
	if code, _ := post(t, s, DefaultAPIKey, `query { myself { pods { id } } }`, nil); code != http.StatusOK {
		t.Errorf("right key: HTTP %d, want 200", code)
	}
}

func TestRefusesInlineInput(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	_, out := post(t, s, DefaultAPIKey, `mutation { podStop(input: {podId: "x"}) { id } }`, nil)
	if errs, _ := out["errors"].([]any); len(errs) == 0 {
		t.Errorf("inline input accepted: %v", out)
	}
}

func TestStartDelayAndPorts(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := New(Options{StartDelay: time.Minute, Now: clock})
	defer s.Close()
	post(t, s, DefaultAPIKey, createQuery, createInput())
	if p := s.Pods()[0]; p.Running || p.Env["A"] != "1" {
		t.Fatalf("pod %+v, want not running yet, env A=1", p)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	_, out := post(t, s, DefaultAPIKey, `query { myself { pods { id runtime { uptimeInSeconds ports { type } } } } }`, nil)
	pods := out["data"].(map[string]any)["myself"].(map[string]any)["pods"].([]any)
	rt, _ := pods[0].(map[string]any)["runtime"].(map[string]any)
	if rt == nil || len(rt["ports"].([]any)) != 2 {
		t.Errorf("runtime = %v, want two mapped ports", rt)
	}
}

func TestTerminatedPodIsGone(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	_, out := post(t, s, DefaultAPIKey, createQuery, createInput())
	id := out["data"].(map[string]any)["podFindAndDeployOnDemand"].(map[string]any)["id"].(string)
	vars := map[string]any{"input": map[string]any{"podId": id}}
	post(t, s, DefaultAPIKey, `mutation T($input: PodTerminateInput!) { podTerminate(input: $input) }`, vars)
	_, out = post(t, s, DefaultAPIKey, `query P($input: PodFilter!) { pod(input: $input) { id } }`, vars)
	if pod := out["data"].(map[string]any)["pod"]; pod != nil || len(s.Pods()) != 0 {
		t.Errorf("terminated pod still there: %v", out)
	}
	_, out = post(t, s, DefaultAPIKey, `mutation S($input: PodStopInput!) { podStop(input: $input) { id } }`, vars)
	if errs, _ := out["errors"].([]any); len(errs) == 0 || !strings.Contains(errs[0].(map[string]any)["message"].(string), "not found") {
		t.Errorf("stop of a gone pod: %v, want not found", out)
	}
}
