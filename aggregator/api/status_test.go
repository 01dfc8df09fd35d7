package api

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
)

func TestBuildInfoAndFlags(t *testing.T) {
	srv := serve(t, Options{Version: "0.4.0", Revision: "abc123", Flags: map[string]string{"web.listen-address": ":9090"}})
	var bi map[string]string
	_, body := get(t, srv, "/api/v1/status/buildinfo")
	decode(t, body, &bi)
	for _, k := range []string{"version", "revision", "branch", "buildUser", "buildDate", "goVersion"} {
		if _, ok := bi[k]; !ok {
			t.Errorf("buildinfo has no %q: %s", k, body)
		}
	}
	if bi["version"] != CompatibleVersion || bi["gpuwdVersion"] != "0.4.0" || bi["revision"] != "abc123" || bi["goVersion"] != runtime.Version() {
		t.Errorf("buildinfo: %s", body)
	}
	if _, body := get(t, srv, "/api/v1/status/flags"); body != `{"status":"success","data":{"web.listen-address":":9090"}}` {
		t.Errorf("flags: %s", body)
	}
	if _, body := get(t, serve(t, Options{}), "/api/v1/status/flags"); body != `{"status":"success","data":{}}` {
		t.Errorf("no flags: %s", body)
	}

	var ri struct {
		StartTime  time.Time `json:"startTime"`
		ServerTime time.Time `json:"serverTime"`
		Goroutines int       `json:"goroutineCount"`
		GOMAXPROCS int       `json:"GOMAXPROCS"`
	}
	_, body = get(t, srv, "/api/v1/status/runtimeinfo")
	decode(t, body, &ri)
	if !ri.StartTime.Equal(now) || !ri.ServerTime.Equal(now) || ri.Goroutines == 0 || ri.GOMAXPROCS == 0 {
		t.Errorf("runtimeinfo: %s", body)
	}
}

// CompatibleVersion follows the prometheus module in go.mod: v0.MMmPP is
// Prometheus M.m.P (v0.315.0 is 3.15.0).
func TestCompatibleVersionMatchesModule(t *testing.T) {
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(gomod)) {
		var minorPatch, patch int
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "github.com/prometheus/prometheus v0.%d.%d", &minorPatch, &patch); err != nil {
			continue
		}
		if want := fmt.Sprintf("%d.%d.%d", minorPatch/100, minorPatch%100, patch); CompatibleVersion != want {
			t.Errorf("CompatibleVersion = %s, but go.mod has Prometheus %s: check the handlers against its web/api/v1 and update it",
				CompatibleVersion, want)
		}
		return
	}
	t.Error("no github.com/prometheus/prometheus in go.mod")
}

// Responses are gzipped for clients that ask, as Prometheus' are.
func TestGzip(t *testing.T) {
	srv := serve(t, Options{})
	for _, accept := range []string{"gzip", "deflate, gzip;q=1.0, *;q=0.5", "br", "gzip;q=0", ""} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/query?query=avg(gpu_temp_celsius)&time=1700000600", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", accept) // set by hand, so the transport does not decompress
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = resp.Body
		wantGzip := acceptsGzip(accept)
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != wantGzip {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q", accept, resp.Header.Get("Content-Encoding"))
		}
		if wantGzip {
			if r, err = gzip.NewReader(resp.Body); err != nil {
				t.Fatal(err)
			}
		}
		b, err := io.ReadAll(r)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000600,"70"]}]}}`; string(b) != want {
			t.Errorf("Accept-Encoding %q: %s", accept, b)
		}
	}
	if acceptsGzip("gzip;q=0") || !acceptsGzip("x-gzip, gzip") || acceptsGzip("x-gzip") {
		t.Error("acceptsGzip misreads q=0 or names")
	}
}

func TestErrorFrom(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want errorType
		code int
	}{
		{promql.ErrQueryCanceled("query execution"), errorCanceled, 499},
		{promql.ErrQueryTimeout("query execution"), errorTimeout, 503},
		{fmt.Errorf("select: %w", context.DeadlineExceeded), errorTimeout, 503},
		{fmt.Errorf("select: %w", context.Canceled), errorCanceled, 499},
		{promql.ErrStorage{Err: errors.New("disk I/O error")}, errorInternal, 500},
		{promql.ErrTooManySamples("query execution"), errorExec, 422},
		{errors.New("vector cannot contain metrics with the same labelset"), errorExec, 422},
	} {
		got := errorFrom(tc.err)
		if got.typ != tc.want || got.typ.status() != tc.code || got.err != tc.err {
			t.Errorf("%v: %s %d, want %s %d", tc.err, got.typ, got.typ.status(), tc.want, tc.code)
		}
	}
}
