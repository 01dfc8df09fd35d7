package chattest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
)

func post(t *testing.T, url, contentType, body string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestSlack(t *testing.T) {
	s := chattest.NewSlack(t)
	for _, tc := range []struct {
		ct, body string
		status   int
		reply    string
	}{
		{"application/json", `{"text":"hi"}`, 200, "ok"},
		{"application/x-www-form-urlencoded", `payload=%7B%22text%22%3A%22form%22%7D`, 200, "ok"},
		{"application/json", `{"attachments":[{"fallback":"x","color":"danger"}]}`, 200, "ok"},
		{"application/json", `{"text":""}`, 400, "no_text"},
		{"application/json", `{"text":`, 400, "invalid_payload"},
		{"application/json", `{"attachments":[{"color":1}]}`, 400, "invalid_payload"},
	} {
		status, _, reply := post(t, s.URL(), tc.ct, tc.body)
		if status != tc.status || reply != tc.reply {
			t.Errorf("%s: %d %q, want %d %q", tc.body, status, reply, tc.status, tc.reply)
		}
	}
	if s.Count() != 3 || s.Attempts() != 6 || s.Received()[1].Text != "form" {
		t.Errorf("count %d attempts %d received %+v", s.Count(), s.Attempts(), s.Received())
	}
}

func TestDiscord(t *testing.T) {
	s := chattest.NewDiscord(t)
	for _, tc := range []struct {
		body   string
		status int
		reply  string
	}{
		{`{"content":"hi","embeds":[{"title":"t","color":10038562,"fields":[{"name":"a","value":"b"}]}]}`, 204, ""},
		{`{"content":""}`, 400, `"code":50006`},
		{`{"embeds":[{"title":"t","color":"0x992D22"}]}`, 400, `"code":50035`},
		{`{"embeds":[{"title":"` + strings.Repeat("x", 257) + `"}]}`, 400, `"title":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH"`},
		{`{"embeds":[{"fields":[{"name":"","value":"v"}]}]}`, 400, "BASE_TYPE_REQUIRED"},
		{`{"content":"x","username":"my Discord bot"}`, 400, "USERNAME_INVALID_CONTAINS"},
		{`{"embeds":[` + strings.Repeat(`{"description":"`+strings.Repeat("d", 1000)+`"},`, 6) + `{"title":"x"}]}`, 400, "MAX_EMBED_SIZE_EXCEEDED"},
		{`{"embeds":[` + strings.Repeat(`{"title":"x"},`, 10) + `{"title":"x"}]}`, 400, `"embeds":{"_errors"`},
	} {
		status, h, reply := post(t, s.URL(), "application/json", tc.body)
		if status != tc.status || !strings.Contains(reply, tc.reply) {
			t.Errorf("%.60s: %d %s, want %d %s", tc.body, status, reply, tc.status, tc.reply)
		}
		if status == 204 && h.Get("X-RateLimit-Remaining") == "" {
			t.Error("no rate-limit headers on success")
		}
	}
	s.FailNext(1, 429, 1500*time.Millisecond)
	status, h, reply := post(t, s.URL(), "application/json", `{"content":"x"}`)
	var rl struct {
		RetryAfter float64 `json:"retry_after"`
	}
	_ = json.Unmarshal([]byte(reply), &rl)
	if status != 429 || h.Get("Retry-After") != "2" || rl.RetryAfter != 1.5 || h.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("429: %d %v %s", status, h, reply)
	}
	s.Delete()
	if status, _, reply := post(t, s.URL(), "application/json", `{"content":"x"}`); status != 404 || !strings.Contains(reply, "10015") {
		t.Errorf("deleted: %d %s", status, reply)
	}
}

func TestTeams(t *testing.T) {
	s := chattest.NewTeams(t)
	card := func(body string) string {
		return `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,"content":{"type":"AdaptiveCard","version":"1.2","body":[` + body + `]}}]}`
	}
	for _, tc := range []struct {
		body   string
		status int
	}{
		{card(`{"type":"TextBlock","text":"hi","color":"Attention"},{"type":"FactSet","facts":[{"title":"a","value":"b"}]}`), 202},
		{card(`{"type":"TextBlock","text":"hi","color":"Red"}`), 400},
		{card(`{"type":"TextBlock"}`), 400},
		{card(`{"type":"Banner","text":"x"}`), 400},
		{`{"type":"message","attachments":[]}`, 400},
		{card(`{"type":"TextBlock","text":"` + strings.Repeat("x", 30000) + `"}`), 413},
	} {
		if status, _, reply := post(t, s.URL(), "application/json", tc.body); status != tc.status {
			t.Errorf("%.80s: %d %s, want %d", tc.body, status, reply, tc.status)
		}
	}
}

func TestScriptedFailures(t *testing.T) {
	s := chattest.NewWebhook(t)
	s.FailNext(2, 500, 0)
	s.FailNext(1, 429, 3*time.Second)
	var got []int
	for range 4 {
		status, h, _ := post(t, s.URL(), "application/json", `{}`)
		got = append(got, status)
		if status == 429 && h.Get("Retry-After") != "3" {
			t.Errorf("Retry-After %q", h.Get("Retry-After"))
		}
	}
	if want := []int{500, 500, 429, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	s.SetDown(true)
	if status, _, _ := post(t, s.URL(), "application/json", `{}`); status != 503 {
		t.Errorf("down: %d", status)
	}
	s.SetDown(false)
	if status, _, _ := post(t, s.URL(), "application/json", `{}`); status != 200 {
		t.Errorf("up again: %d", status)
	}
	if s.Count() != 2 || s.Attempts() != 6 {
		t.Errorf("count %d attempts %d", s.Count(), s.Attempts())
	}
}

func TestHangEndsWithTheClient(t *testing.T) {
	s := chattest.NewSlack(t)
	s.HangNext(1)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL(), bytes.NewReader([]byte(`{"text":"x"}`)))
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("a hung request was answered")
	}
	if status, _, _ := post(t, s.URL(), "application/json", `{"text":"x"}`); status != 200 {
		t.Errorf("after the hang: %d", status)
	}
}

func TestConcurrentAndWaitCount(t *testing.T) {
	s := chattest.NewNtfy(t)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := http.Post(s.BaseURL()+"/", "application/json", strings.NewReader(`{"topic":"gpu","message":"x","priority":4}`))
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitCount(ctx, 20); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got := s.Received(); len(got) != 20 || got[0].Topic != "gpu" || got[0].Priority != 4 {
		t.Errorf("received %d: %+v", len(got), got[0])
	}
	if status, _, _ := post(t, s.BaseURL()+"/", "application/json", `{"topic":"bad topic!"}`); status != 400 {
		t.Errorf("bad topic: %d", status)
	}
}

func TestAlertmanager(t *testing.T) {
	s := chattest.NewAlertmanager(t)
	if status, _, _ := post(t, s.BaseURL()+"/am/api/v2/alerts", "application/json", `[{"labels":{"alertname":"x"}}]`); status != 200 {
		t.Errorf("post: %d", status)
	}
	if status, _, _ := post(t, s.BaseURL()+"/am/api/v2/alerts", "application/json", `[{"labels":{}}]`); status != 400 {
		t.Errorf("no labels: %d", status)
	}
	if status, _, _ := post(t, s.BaseURL()+"/api/v1/alerts", "application/json", `[]`); status != 404 {
		t.Errorf("API v1: %d", status)
	}
	if got := s.Received(); len(got) != 1 || got[0].Path != "/am/api/v2/alerts" || got[0].Alerts[0].Labels["alertname"] != "x" {
		t.Errorf("received %+v", got)
	}
}
