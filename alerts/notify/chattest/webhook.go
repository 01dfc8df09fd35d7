package chattest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Request is one request a generic endpoint accepted.
type Request struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// JSON decodes the request's body into v.
func (r Request) JSON(v any) error { return json.Unmarshal(r.Body, v) }

// NewWebhook starts a generic JSON webhook: any POST with a JSON body is
// answered 200 and recorded whole (headers included, for Authorization).
func NewWebhook(t testing.TB) *Server[Request] {
	t.Helper()
	return newServer[Request](t, webhookService{})
}

type webhookService struct{}

func (webhookService) accept(r *http.Request, body []byte) (Request, *Reply) {
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
	if !json.Valid(body) {
		return req, &Reply{Status: http.StatusBadRequest, Body: "invalid JSON"}
	}
	return req, nil
}

func (webhookService) success() Reply { return Reply{Status: http.StatusOK} }
func (webhookService) gone() Reply {
	return Reply{Status: http.StatusNotFound, Body: "404 page not found"}
}

func (webhookService) failure(f Failure) Reply {
	body := f.Body
	if body == "" {
		body = http.StatusText(f.Status)
	}
	return Reply{Status: f.Status, Header: failureHeader(f), Body: body}
}

// NtfyMessage is a JSON publish request as ntfy reads it, with the
// Authorization header it came with.
type NtfyMessage struct {
	Topic         string   `json:"topic"`
	Title         string   `json:"title"`
	Message       string   `json:"message"`
	Priority      int      `json:"priority"`
	Tags          []string `json:"tags"`
	Click         string   `json:"click"`
	Markdown      bool     `json:"markdown"`
	Path          string   `json:"-"`
	Authorization string   `json:"-"`
}

var ntfyTopic = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

// NewNtfy starts an ntfy server taking JSON publishes (POST to its root,
// the topic in the body): answered 200 with the message's JSON; a missing
// or bad topic or priority gets ntfy's 400 JSON error.
func NewNtfy(t testing.TB) *Server[NtfyMessage] {
	t.Helper()
	return newServer[NtfyMessage](t, ntfyService{})
}

type ntfyService struct{}

func (ntfyService) accept(r *http.Request, body []byte) (NtfyMessage, *Reply) {
	var m NtfyMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return m, ntfyError(http.StatusBadRequest, 40017, "invalid request: request body must be message JSON")
	}
	m.Path = r.URL.Path
	m.Authorization = r.Header.Get("Authorization")
	switch {
	case !ntfyTopic.MatchString(m.Topic):
		return m, ntfyError(http.StatusBadRequest, 40009, "invalid request: topic invalid")
	case m.Priority < 0 || m.Priority > 5:
		return m, ntfyError(http.StatusBadRequest, 40007, "invalid priority")
	}
	return m, nil
}

func ntfyError(status, code int, msg string) *Reply {
	b, _ := json.Marshal(map[string]any{"code": code, "http": status, "error": msg})
	return &Reply{Status: status, Header: jsonHeader(), Body: string(b)}
}

func (ntfyService) success() Reply {
	body := fmt.Sprintf(`{"id":"chattest","time":%d,"event":"message"}`, time.Now().Unix())
	return Reply{Status: http.StatusOK, Header: jsonHeader(), Body: body}
}

func (ntfyService) failure(f Failure) Reply {
	r := *ntfyError(f.Status, f.Status*100, strings.ToLower(http.StatusText(f.Status)))
	for k, vs := range failureHeader(f) {
		r.Header[k] = vs
	}
	if f.Body != "" {
		r.Body = f.Body
	}
	return r
}

func (ntfyService) gone() Reply { return *ntfyError(http.StatusNotFound, 40401, "page not found") }

// PostedAlert is one alert of an Alertmanager POST /api/v2/alerts.
type PostedAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// AlertmanagerPost is one accepted POST /api/v2/alerts.
type AlertmanagerPost struct {
	Path   string
	Header http.Header
	Alerts []PostedAlert
}

// NewAlertmanager starts an Alertmanager's alerts API: POST
// <prefix>/api/v2/alerts with a JSON array of alerts, each with labels, is
// answered 200; other paths 404, bad alerts 400.
func NewAlertmanager(t testing.TB) *Server[AlertmanagerPost] {
	t.Helper()
	return newServer[AlertmanagerPost](t, alertmanagerService{})
}

type alertmanagerService struct{}

func (alertmanagerService) accept(r *http.Request, body []byte) (AlertmanagerPost, *Reply) {
	p := AlertmanagerPost{Path: r.URL.Path, Header: r.Header.Clone()}
	if !strings.HasSuffix(r.URL.Path, "/api/v2/alerts") {
		return p, &Reply{Status: http.StatusNotFound, Body: "404 page not found"}
	}
	if err := json.Unmarshal(body, &p.Alerts); err != nil {
		return p, amError(fmt.Sprintf("parsing alerts body: %v", err))
	}
	for i, a := range p.Alerts {
		if len(a.Labels) == 0 {
			return p, amError(fmt.Sprintf("%d: labels in body is required", i))
		}
	}
	return p, nil
}

func amError(msg string) *Reply {
	b, _ := json.Marshal(map[string]any{"code": 400, "message": msg})
	return &Reply{Status: http.StatusBadRequest, Header: jsonHeader(), Body: string(b)}
}

func (alertmanagerService) success() Reply { return Reply{Status: http.StatusOK} }
func (alertmanagerService) gone() Reply {
	return Reply{Status: http.StatusNotFound, Body: "404 page not found"}
}

func (alertmanagerService) failure(f Failure) Reply {
	return webhookService{}.failure(f)
}
