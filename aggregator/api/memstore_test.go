package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules/ruletest"
)

// t0 is the test data's first sample time; samples are every 15 s for 20 m.
var t0 = time.Unix(1700000000, 0)

const (
	t0ms     = 1700000000000
	stepMS   = 15000
	nSamples = 81 // t0 … t0+1200s
)

// newMemStore makes series of nSamples points from t0, the value at point
// i being f(i), in the in-memory store rule unit tests use.
func newMemStore(defs map[string]func(i int) float64) *ruletest.Store {
	s := ruletest.NewStore()
	for desc, f := range defs {
		ls, err := parser.NewParser(parser.Options{}).ParseMetric(desc)
		if err != nil {
			panic(err)
		}
		for i := range nSamples {
			if err := s.Append(ls, t0ms+int64(i)*stepMS, f(i)); err != nil {
				panic(err)
			}
		}
	}
	return s
}

// testStore is the fleet the tests query: a counter rising 10 per scrape,
// three temperature gauges (60, 70, 80; average 70), up for two
// instances, and a series with a UTF-8 label name.
func testStore() *ruletest.Store {
	constant := func(v float64) func(int) float64 { return func(int) float64 { return v } }
	return newMemStore(map[string]func(int) float64{
		`gpu_xid_errors_total{job="gpu",instance="a:9400",gpu="0"}`:                  func(i int) float64 { return 10 * float64(i) },
		`gpu_temp_celsius{job="gpu",instance="a:9400",gpu="0"}`:                      constant(60),
		`gpu_temp_celsius{job="gpu",instance="a:9400",gpu="1"}`:                      constant(70),
		`gpu_temp_celsius{job="gpu",instance="b:9400",gpu="0"}`:                      constant(80),
		`up{job="gpu",instance="a:9400"}`:                                            constant(1),
		`up{job="gpu",instance="b:9400"}`:                                            constant(0),
		`{__name__="gpu_info",job="gpu",instance="a:9400","gpu.model"="H100 <SXM>"}`: constant(1),
	})
}

// blockingStore's selects wait for the query's context to end.
type blockingStore struct{}

func (blockingStore) Querier(mint, maxt int64) (storage.Querier, error) {
	q, err := ruletest.NewStore().Querier(mint, maxt)
	return blockingQuerier{q}, err
}

type blockingQuerier struct{ storage.Querier }

func (blockingQuerier) Select(ctx context.Context, _ bool, _ *storage.SelectHints, _ ...*labels.Matcher) storage.SeriesSet {
	<-ctx.Done()
	return storage.ErrSeriesSet(ctx.Err())
}

// failingStore's selects fail.
type failingStore struct{}

func (failingStore) Querier(mint, maxt int64) (storage.Querier, error) {
	q, err := ruletest.NewStore().Querier(mint, maxt)
	return failingQuerier{q}, err
}

type failingQuerier struct{ storage.Querier }

func (failingQuerier) Select(context.Context, bool, *storage.SelectHints, ...*labels.Matcher) storage.SeriesSet {
	return storage.ErrSeriesSet(promql.ErrStorage{Err: io.ErrUnexpectedEOF})
}

func newEngine(maxSamples int) *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		MaxSamples:           maxSamples,
		Timeout:              time.Minute,
		LookbackDelta:        5 * time.Minute,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
	})
}

// now is the tests' "now": ten minutes into the data.
var now = t0.Add(10 * time.Minute)

// serve starts the API on 127.0.0.1 with the test store and engine unless o
// says otherwise.
func serve(t testing.TB, o Options) *httptest.Server {
	t.Helper()
	if o.Queryable == nil {
		o.Queryable = testStore()
	}
	if o.Engine == nil {
		o.Engine = newEngine(50e6)
	}
	if o.Now == nil {
		o.Now = func() time.Time { return now }
	}
	mux := http.NewServeMux()
	New(o).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// response is the envelope, data left raw.
type response struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
	Infos     []string        `json:"infos"`
}

// get GETs path and returns the status and the body.
func get(t testing.TB, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	return readBody(t, resp)
}

// post POSTs form as application/x-www-form-urlencoded.
func post(t testing.TB, srv *httptest.Server, path string, form url.Values) (int, string) {
	t.Helper()
	resp, err := srv.Client().Post(srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	return readBody(t, resp)
}

func readBody(t testing.TB, resp *http.Response) (int, string) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNoContent && resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type = %q", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, string(b)
}

// decode parses an envelope, and its data into data unless nil.
func decode(t testing.TB, body string, data any) response {
	t.Helper()
	var r response
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("invalid JSON %q: %v", body, err)
	}
	if data != nil {
		if err := json.Unmarshal(r.Data, data); err != nil {
			t.Fatalf("data %s: %v", r.Data, err)
		}
	}
	return r
}
