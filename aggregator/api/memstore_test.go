package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// t0 is the test data's first sample time; samples are every 15 s for 20 m.
var t0 = time.Unix(1700000000, 0)

const (
	t0ms     = 1700000000000
	stepMS   = 15000
	nSamples = 81 // t0 … t0+1200s
)

// memStore is an in-memory storage.Queryable over fixed series.
type memStore struct {
	series []memSeries // sorted by labels
}

type memSeries struct {
	lset labels.Labels
	ts   []int64
	vs   []float64
}

// newMemStore makes series of nSamples points from t0, the value at point
// i being f(i).
func newMemStore(defs map[string]func(i int) float64) *memStore {
	s := &memStore{}
	for desc, f := range defs {
		ls, err := parser.NewParser(parser.Options{}).ParseMetric(desc)
		if err != nil {
			panic(err)
		}
		ms := memSeries{lset: ls}
		for i := range nSamples {
			ms.ts = append(ms.ts, t0ms+int64(i)*stepMS)
			ms.vs = append(ms.vs, f(i))
		}
		s.series = append(s.series, ms)
	}
	slices.SortFunc(s.series, func(a, b memSeries) int { return labels.Compare(a.lset, b.lset) })
	return s
}

// testStore is the fleet the tests query: a counter rising 10 per scrape,
// three temperature gauges (60, 70, 80; average 70), up for two
// instances, and a series with a UTF-8 label name.
func testStore() *memStore {
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

func (s *memStore) Querier(mint, maxt int64) (storage.Querier, error) {
	return &memQuerier{s: s, mint: mint, maxt: maxt}, nil
}

type memQuerier struct {
	s          *memStore
	mint, maxt int64
}

// matching returns the series that ms select with samples in [mint, maxt],
// clipped to it.
func (q *memQuerier) matching(mint, maxt int64, ms []*labels.Matcher) []storage.Series {
	var out []storage.Series
	for _, s := range q.s.series {
		ok := true
		for _, m := range ms {
			ok = ok && m.Matches(s.lset.Get(m.Name))
		}
		lo, _ := slices.BinarySearch(s.ts, mint)
		hi, found := slices.BinarySearch(s.ts, maxt)
		if found {
			hi++
		}
		if ok && lo < hi {
			out = append(out, &memSeries{lset: s.lset, ts: s.ts[lo:hi], vs: s.vs[lo:hi]})
		}
	}
	return out
}

func (q *memQuerier) Select(_ context.Context, _ bool, h *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	if h != nil {
		mint, maxt = max(mint, h.Start), min(maxt, h.End)
	}
	return &listSet{series: q.matching(mint, maxt, ms), i: -1}
}

func (q *memQuerier) LabelValues(_ context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var vals []string
	for _, s := range q.matching(q.mint, q.maxt, ms) {
		if v := s.Labels().Get(name); v != "" && !slices.Contains(vals, v) {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	return vals, nil, nil
}

func (q *memQuerier) LabelNames(_ context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var names []string
	for _, s := range q.matching(q.mint, q.maxt, ms) {
		s.Labels().Range(func(l labels.Label) {
			if !slices.Contains(names, l.Name) {
				names = append(names, l.Name)
			}
		})
	}
	slices.Sort(names)
	return names, nil, nil
}

func (*memQuerier) Close() error { return nil }

type listSet struct {
	series []storage.Series
	i      int
}

func (l *listSet) Next() bool                      { l.i++; return l.i < len(l.series) }
func (l *listSet) At() storage.Series              { return l.series[l.i] }
func (*listSet) Err() error                        { return nil }
func (*listSet) Warnings() annotations.Annotations { return nil }
func (s *memSeries) Labels() labels.Labels         { return s.lset }
func (s *memSeries) Iterator(chunkenc.Iterator) chunkenc.Iterator {
	return storage.NewListSeriesIterator(s)
}

// memSeries is a storage.Samples for storage's list iterator.
func (s *memSeries) Get(i int) chunks.Sample { return fpoint{s.ts[i], s.vs[i]} }
func (s *memSeries) Len() int                { return len(s.ts) }

type fpoint struct {
	t int64
	f float64
}

func (p fpoint) T() int64                    { return p.t }
func (fpoint) ST() int64                     { return 0 }
func (p fpoint) F() float64                  { return p.f }
func (fpoint) H() *histogram.Histogram       { return nil }
func (fpoint) FH() *histogram.FloatHistogram { return nil }
func (fpoint) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (p fpoint) Copy() chunks.Sample         { return p }

// blockingStore's selects wait for the query's context to end.
type blockingStore struct{ memStore }

func (s *blockingStore) Querier(mint, maxt int64) (storage.Querier, error) {
	return blockingQuerier{&memQuerier{s: &s.memStore, mint: mint, maxt: maxt}}, nil
}

type blockingQuerier struct{ *memQuerier }

func (blockingQuerier) Select(ctx context.Context, _ bool, _ *storage.SelectHints, _ ...*labels.Matcher) storage.SeriesSet {
	<-ctx.Done()
	return storage.ErrSeriesSet(ctx.Err())
}

// failingStore's selects fail.
type failingStore struct{ memStore }

func (s *failingStore) Querier(mint, maxt int64) (storage.Querier, error) {
	return failingQuerier{&memQuerier{s: &s.memStore, mint: mint, maxt: maxt}}, nil
}

type failingQuerier struct{ *memQuerier }

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
