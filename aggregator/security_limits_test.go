package aggregator_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/runpod/runpodtest"
)

// bodyReader is a request body of n bytes ("a=aaa…") that counts what was
// read of it.
type bodyReader struct{ n, read int }

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.read >= b.n {
		return 0, io.EOF
	}
	k := min(len(p), b.n-b.read)
	for i := range k {
		p[i] = 'a'
		if b.read+i == 1 {
			p[i] = '='
		}
	}
	b.read += k
	return k, nil
}

// Every route that is not GET or HEAD, as the server lists them, refuses a
// body over aggregator.MaxRequestBody with 413, whoever sends it: sent
// in chunks (no Content-Length), having read at most the limit; with a
// Content-Length over it, before reading any of it (a client that waits
// for 100 Continue sends none). A body at the limit gets through, and an
// agent's registration is held to 64 KiB.
func TestSecurityRequestBodiesAreLimited(t *testing.T) {
	t.Parallel()
	fake := runpodtest.New(runpodtest.Options{})
	t.Cleanup(fake.Close)
	keyFile := filepath.Join(t.TempDir(), "runpod-key")
	os.WriteFile(keyFile, []byte(runpodtest.DefaultAPIKey), 0o600)
	s, _ := startServerLogged(t, `registration: {token: limits-token}
provision:
  runpod: {url: "`+fake.URL+`", api_key_file: `+keyFile+`, image: "ghcr.io/gpu-watchdog/agent:limits"}
`, func(o *aggregator.Options) { o.EnableLifecycle = true })
	const limit = aggregator.MaxRequestBody
	adminToken := readAdminToken(t, s)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ExpectContinueTimeout = 10 * time.Second
	waiting := &http.Client{Transport: tr}

	checked := 0
	for _, r := range s.Routes() {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			continue
		}
		checked++
		path := concrete(r.Path)
		body := &bodyReader{n: 4 * limit}
		req := httptest.NewRequest(r.Method, path, body)
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+adminToken)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge || body.read > limit+1 {
			t.Errorf("%s %s with a %d-byte chunked body: %d, %d bytes read; want 413 having read at most %d",
				r.Method, r.Path, body.n, rec.Code, body.read, limit+1)
		}

		sent := &bodyReader{n: limit + 1}
		req, _ = http.NewRequest(r.Method, "http://"+s.Addr()+path, sent)
		req.ContentLength = int64(sent.n)
		req.Header.Set("Expect", "100-continue")
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := waiting.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", r.Method, r.Path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || sent.read != 0 {
			t.Errorf("%s %s with Content-Length %d: %d, %d bytes sent; want 413 before the body", r.Method, r.Path, sent.n, resp.StatusCode, sent.read)
		}
	}
	if checked < 15 {
		t.Fatalf("checked only %d routes", checked)
	}

	// At the limit: a query whose form is exactly MaxRequestBody bytes.
	form := "query=" + strings.Repeat(" ", limit-len("query=vector(1)")) + "vector(1)"
	resp, err := http.Post("http://"+s.Addr()+"/api/v1/query", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a query of exactly %d bytes: %d, want 200", len(form), resp.StatusCode)
	}

	// A registration over 64 KiB, with the right token.
	reg := `{"url": "http://10.0.0.9:9400/metrics", "node": "` + strings.Repeat("n", 64<<10) + `"}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+"/api/v1/agents/register", bytes.NewReader([]byte(reg)))
	req.Header.Set("Authorization", "Bearer limits-token")
	if resp, body := send(t, http.DefaultClient, req); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a %d-byte registration: %d %s, want 413", len(reg), resp.StatusCode, body)
	}
}
