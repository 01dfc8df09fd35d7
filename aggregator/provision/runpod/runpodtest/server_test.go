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

func TestOperationFaults(t *testing.T) {
	t.Parallel()
	s := New(Options{RetryAfter: "7"})
	defer s.Close()
	const list = `query { myself { pods { id } } }`
	s.FailNextOp(OpCreate, 1, http.StatusTooManyRequests)
	s.GraphQLErrorNextOp(OpCreate, "no GPUs")
	s.FailOp(OpList, http.StatusInternalServerError)
	for range 2 {
		if code, _ := post(t, s, DefaultAPIKey, list, nil); code != http.StatusInternalServerError {
			t.Errorf("listing during its outage: HTTP %d, want 500", code)
		}
	}
	if code, _ := post(t, s, DefaultAPIKey, `query { gpuTypes { id } }`, nil); code != http.StatusOK {
		t.Errorf("another operation: HTTP %d, want 200", code)
	}
	if code, _ := post(t, s, DefaultAPIKey, createQuery, createInput()); code != http.StatusTooManyRequests {
		t.Errorf("first create: HTTP %d, want 429", code)
	}
	if _, out := post(t, s, DefaultAPIKey, createQuery, createInput()); out["errors"] == nil || s.Creates() != 0 {
		t.Errorf("second create: %v, %d creates; want the GraphQL error, none made", out, s.Creates())
	}
	if s.Pending() != 0 {
		t.Errorf("%d injected answers left", s.Pending())
	}
	post(t, s, DefaultAPIKey, createQuery, createInput())
	s.FailOp(OpList, 0)
	if code, _ := post(t, s, DefaultAPIKey, list, nil); code != http.StatusOK || s.Creates() != 1 {
		t.Errorf("after the outage: HTTP %d, %d creates", code, s.Creates())
	}
}

func TestExposeTCP(t *testing.T) {
	t.Parallel()
	s := New(Options{ManualStart: true})
	defer s.Close()
	post(t, s, DefaultAPIKey, createQuery, createInput())
	id := s.Pods()[0].ID
	if err := s.ExposeTCP(id, 9400, "127.0.0.1:41234"); err != nil {
		t.Fatal(err)
	}
	if err := s.ExposeTCP("nope", 9400, "127.0.0.1:41234"); err == nil {
		t.Error("exposed a port of a pod that does not exist")
	}
	if err := s.Start(id); err != nil {
		t.Fatal(err)
	}
	_, out := post(t, s, DefaultAPIKey, `query { myself { pods { id runtime { ports { ip isIpPublic privatePort publicPort type } } } } }`, nil)
	pods := out["data"].(map[string]any)["myself"].(map[string]any)["pods"].([]any)
	ports := pods[0].(map[string]any)["runtime"].(map[string]any)["ports"].([]any)
	found := false
	for _, p := range ports {
		m := p.(map[string]any)
		found = found || m["privatePort"] == 9400.0 && m["type"] == "tcp" && m["ip"] == "127.0.0.1" && m["publicPort"] == 41234.0 && m["isIpPublic"] == true
	}
	if !found || len(ports) != 3 {
		t.Errorf("ports %v, want 9400's proxy, 22/tcp and 9400 on 127.0.0.1:41234", ports)
	}
}
