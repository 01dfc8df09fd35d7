package scrape

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
)

// endlessServer streams a valid-looking page of up to 1 GiB, generated as
// it goes (never held in memory), gzip-compressed if asked.
func endlessServer(t *testing.T, compress bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", textPlain)
		var out io.Writer = w
		if compress {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			defer zw.Close()
			out = zw
		}
		chunk := bytes.Repeat([]byte("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 1\n"), 1000)
		for sent := 0; sent < 1<<30; sent += len(chunk) {
			if _, err := out.Write(chunk); err != nil || r.Context().Err() != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// silentServer accepts requests and never answers.
func silentServer(t *testing.T) *httptest.Server {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv
}

// refusedURL is an address where nothing listens.
func refusedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestScrapeFailures(t *testing.T) {
	garbage := newAgent(t, "<html><body>Welcome to nginx!</body></html>\n", "text/html")
	badLine := newAgent(t, "# HELP a A.\na 1\n\nb 2\nc\nd 4\n", textPlain)
	status := newAgent(t, "nope", textPlain)
	status.set("nope", http.StatusInternalServerError)
	for _, tc := range []struct {
		name    string
		url     string
		timeout time.Duration
		limit   int64
		want    string
	}{
		{"garbage", garbage.srv.URL, 0, 0, `parse: line 1: expected a valid start token, got "<"`},
		{"bad line", badLine.srv.URL, 0, 0, `parse: line 5: expected value after metric, got "\n"`},
		{"status", status.srv.URL, 0, 0, "server returned HTTP status 500 Internal Server Error"},
		{"too big", endlessServer(t, false).URL, 0, 1 << 20, "body size limit exceeded (1048576 bytes)"},
		{"too big gzip", endlessServer(t, true).URL, 0, 1 << 20, "body size limit exceeded (1048576 bytes)"},
		{"timeout", silentServer(t).URL, 100 * time.Millisecond, 0, "context deadline exceeded (timeout 100ms)"},
		{"refused", refusedURL(t), 0, 0, "connect: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := jobConfig("j", time.Minute, 10*time.Second)
			if tc.timeout > 0 {
				cfg.ScrapeTimeout = model.Duration(tc.timeout)
			}
			if tc.limit > 0 {
				cfg.BodySizeLimit = tc.limit
			}
			h := newHarness(t, cfg, targetFor(t, "j", tc.url))
			ts := h.scrape()
			st := h.status()
			if st.Health != HealthDown || !strings.Contains(st.LastError, tc.want) {
				t.Errorf("status %s %q, want an error with %q", st.Health, st.LastError, tc.want)
			}
			if v := h.st.value(t, ts, "__name__", "up"); v != 0 {
				t.Errorf("up = %v", v)
			}
			if got := len(h.st.points()); got != 5 {
				t.Errorf("stored %d samples, want the 5 report series", got)
			}
		})
	}
}

func TestStoreFailure(t *testing.T) {
	a := newAgent(t, "a 1\nb 2\n", textPlain)
	h := newHarness(t, jobConfig("j", time.Minute, 10*time.Second), targetFor(t, "j", a.srv.URL))
	h.scrape()
	h.st.setAppendErr(func(context.Context, []store.Sample) error { return errors.New("disk full") })
	a.set("a 1\n", 200)
	h.scrape()
	if st := h.status(); st.Health != HealthDown || st.LastError != "storing samples: disk full" {
		t.Errorf("status %s %q", st.Health, st.LastError)
	}
	// Once storage works again, what disappeared meanwhile is marked stale.
	h.st.setAppendErr(nil)
	ts := h.scrape()
	if p := h.st.at(ts, "__name__", "b"); len(p) != 1 || !only(p).stale() {
		t.Errorf("b after the store recovered: %v, want a stale marker", p)
	}
	if st := h.status(); st.Health != HealthUp {
		t.Errorf("status %s %q", st.Health, st.LastError)
	}
}

func TestStoreBlocks(t *testing.T) {
	a := newAgent(t, "a 1\n", textPlain)
	cfg := jobConfig("j", 200*time.Millisecond, 100*time.Millisecond)
	h := newHarness(t, cfg, targetFor(t, "j", a.srv.URL))
	h.st.setAppendErr(func(ctx context.Context, _ []store.Sample) error {
		<-ctx.Done() // a store that never answers
		return ctx.Err()
	})
	h.scrape()
	if st := h.status(); st.LastError != "storing samples: context deadline exceeded" {
		t.Errorf("status %s %q", st.Health, st.LastError)
	}
}

func TestErrorLine(t *testing.T) {
	b := []byte("a 1\n\n\nb 2\nc\n")
	for _, tc := range []struct {
		last []byte
		want int
	}{
		{nil, 1},
		{b[0:1], 4}, // after a, blank lines skipped
		{b[6:7], 5},
		{[]byte("x"), 0}, // not in b
	} {
		if got := errorLine(b, tc.last); got != tc.want {
			t.Errorf("errorLine after %q = %d, want %d", tc.last, got, tc.want)
		}
	}
}
