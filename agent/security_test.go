package agent

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// countingBody is a request body of n bytes that counts what was read.
type countingBody struct{ n, read int }

func (b *countingBody) Read(p []byte) (int, error) {
	if b.read >= b.n {
		return 0, io.EOF
	}
	k := min(len(p), b.n-b.read)
	b.read += k
	return k, nil
}

// No endpoint of the agent reads a request body: one over MaxRequestBody
// is refused with 413 on every route, having read at most the limit, and
// with a Content-Length over it before any is sent. Small bodies (an
// empty POST, one at the limit) change nothing.
func TestSecurityAgentRefusesRequestBodies(t *testing.T) {
	a := serve(t, Options{Simulate: "h100x1", MetricsToken: "agent-limits-token"})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ExpectContinueTimeout = 10 * time.Second
	waiting := &http.Client{Transport: tr}
	for _, r := range []struct{ method, path string }{
		{"GET", "/metrics"}, {"GET", "/api/v1/node"}, {"GET", "/healthz"}, {"GET", "/readyz"}, {"GET", "/"},
		{"POST", "/debug/sim/xid?gpu=0&xid=79"}, {"POST", "/debug/sim/lose?gpu=0"}, {"POST", "/debug/sim/heat?gpu=0&celsius=0"},
	} {
		body := &countingBody{n: 1 << 20}
		req := httptest.NewRequest(r.method, r.path, body)
		req.ContentLength = -1
		req.Header.Set("Authorization", "Bearer agent-limits-token")
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge || body.read > MaxRequestBody+1 {
			t.Errorf("%s %s with a chunked %d-byte body: %d, %d bytes read; want 413 having read at most %d",
				r.method, r.path, body.n, rec.Code, body.read, MaxRequestBody+1)
		}

		sent := &countingBody{n: MaxRequestBody + 1}
		req, _ = http.NewRequest(r.method, a.url+r.path, sent)
		req.ContentLength = int64(sent.n)
		req.Header.Set("Expect", "100-continue")
		resp, err := waiting.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || sent.read != 0 {
			t.Errorf("%s %s with Content-Length %d: %d, %d bytes sent; want 413 before the body", r.method, r.path, sent.n, resp.StatusCode, sent.read)
		}
	}
	resp, _ := do(t, http.DefaultClient, "POST", a.url+"/debug/sim/heat?gpu=0&celsius=90", "Authorization", "Bearer agent-limits-token")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("an empty POST: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", a.url+"/metrics", strings.NewReader(strings.Repeat("x", MaxRequestBody)))
	req.Header.Set("Authorization", "Bearer agent-limits-token")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("a body at the limit: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}
