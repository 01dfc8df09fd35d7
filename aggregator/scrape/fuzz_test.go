package scrape

import (
	"bytes"
	"compress/gzip"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"google.golang.org/protobuf/proto"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
)

// How a fuzzed page travels to the scraper.
const (
	encIdentity = iota // as is
	encGzip            // gzip-compressed by the agent, with Content-Encoding: gzip
	encBadGzip         // as is, but claimed to be gzip
	numEncodings
)

// fuzzPage is what the fuzzing agent serves.
type fuzzPage struct {
	body        []byte
	contentType string
	encoding    uint8
}

// fuzzAgent serves whatever page was stored last to the transport it
// returns, over in-memory connections: a fuzzed page goes through
// net/http's client (gzip), the scraper's fetch (the body size limit) and
// parse, as an agent's answer does, without the cost of TCP.
func fuzzAgent(f *testing.F) (*http.Transport, *atomic.Pointer[fuzzPage]) {
	var page atomic.Pointer[fuzzPage]
	ln := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := page.Load()
		w.Header()["Content-Type"] = nil // no sniffing: an empty type stays absent
		if p.contentType != "" {
			w.Header().Set("Content-Type", p.contentType)
		}
		switch p.encoding {
		case encGzip:
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			_, _ = zw.Write(p.body)
			_ = zw.Close()
		case encBadGzip:
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(p.body)
		default:
			_, _ = w.Write(p.body)
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	f.Cleanup(func() { _ = srv.Close() })
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		client, server := net.Pipe()
		select {
		case ln.conns <- server:
			return client, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}}
	f.Cleanup(tr.CloseIdleConnections)
	return tr, &page
}

// pipeListener accepts the server ends of net.Pipe connections.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9400} }

// FuzzScrape scrapes a fuzzed page twice (the second time the remembered
// layout may be used) through a real scrape loop. Whatever the page, the
// scrape must end, without panicking, either up or down; when up, every
// stored series has valid labels (a metric name, valid names and values,
// no empty value, no name twice, the target's job and instance) and the
// job's sample_limit and body_size_limit held; when down, no sample of the
// page is stored.
func FuzzScrape(f *testing.F) {
	for _, s := range scrapeSeeds(f) {
		f.Add(s.body, s.contentType, s.encoding, uint16(0), uint32(0))
	}
	f.Add([]byte(textBase), textPlain, uint8(encIdentity), uint16(2), uint32(0))                          // over the sample limit
	f.Add([]byte(textBase), textPlain, uint8(encGzip), uint16(0), uint32(len(textBase)-1))                // over the size limit
	f.Add([]byte(omBase+"# EOF\n"), omType, uint8(encGzip), uint16(4), uint32(len(omBase)+6))             // exactly at both
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"), textPlain, uint8(encBadGzip), uint16(0), uint32(0)) // truncated gzip

	tr, page := fuzzAgent(f)
	f.Fuzz(func(t *testing.T, body []byte, contentType string, encoding uint8, sampleLimit uint16, bodyLimit uint32) {
		if !validHeaderValue(contentType) {
			return // the HTTP client would refuse the answer before the scraper sees it
		}
		p := &fuzzPage{body: body, contentType: contentType, encoding: encoding % numEncodings}
		page.Store(p)
		cfg := jobConfig("fuzz", 15*time.Second, 10*time.Second)
		if sampleLimit > 0 {
			cfg.SampleLimit = int(sampleLimit)
		}
		if bodyLimit > 0 {
			cfg.BodySizeLimit = int64(bodyLimit)
		}
		st := newFakeStorage()
		m := NewManager(st, Options{Transport: tr})
		if err := m.ApplyConfig([]config.ScrapeConfig{cfg}); err != nil {
			t.Fatal(err)
		}
		l := m.newLoop(targetFor(t, "fuzz", "http://127.0.0.1:9400"), m.jobs["fuzz"], nil)
		l.init()
		defer l.cancel()

		// Never hangs: a scrape of a page this small takes milliseconds.
		hung := time.AfterFunc(2*time.Minute, func() { panic("scrape of a fuzzed page did not end") })
		defer hung.Stop()
		ts := time.UnixMilli(1_700_000_000_000)
		for range 2 {
			ts = ts.Add(15 * time.Second)
			before := len(st.samples)
			if !l.scrapeOnce(ts) {
				t.Fatal("scrape abandoned")
			}
			if !checkScrape(t, st, l, p, cfg, before, ts.UnixMilli()) {
				break // the second scrape is for the layout of a page that was read
			}
		}
	})
}

// checkScrape checks what one scrape of p stored from sample before on,
// and returns whether the scrape succeeded.
func checkScrape(t *testing.T, st *fakeStorage, l *loop, p *fuzzPage, cfg config.ScrapeConfig, before int, ts int64) bool {
	t.Helper()
	l.mu.Lock()
	health, lastErr := l.health, l.lastErr
	l.mu.Unlock()
	if health != HealthUp && health != HealthDown {
		t.Fatalf("health %q after a scrape", health)
	}
	sizeKnown := p.encoding != encBadGzip // else what the gzip reader makes of it is unknown
	if sizeKnown && int64(len(p.body)) > cfg.BodySizeLimit &&
		(health == HealthUp || !strings.Contains(lastErr, "body size limit exceeded")) {
		t.Fatalf("page of %d bytes over body_size_limit %d: health %s, error %q", len(p.body), cfg.BodySizeLimit, health, lastErr)
	}

	st.mu.Lock()
	defer st.mu.Unlock()
	var up, scraped float64 = -1, -1
	pageSamples := 0
	for _, s := range st.samples[before:] {
		lset, ok := st.lsets[s.Ref]
		if !ok {
			t.Fatalf("sample of unknown series %d", s.Ref)
		}
		switch name := lset.Get(model.MetricNameLabel); {
		case s.T == ts && isReport(name, lset.Len()): // written after the page's, so last
			switch name {
			case "up":
				up = s.V
			case "scrape_samples_scraped":
				scraped = s.V
			}
		case !value.IsStaleNaN(s.V):
			pageSamples++
		}
	}
	if up != 0 && up != 1 || (up == 1) != (health == HealthUp) {
		t.Fatalf("up = %v, health %s (%s)", up, health, lastErr)
	}
	if health == HealthDown && pageSamples > 0 {
		t.Fatalf("failed scrape (%s) stored %d samples of the page", lastErr, pageSamples)
	}
	if health == HealthUp && (pageSamples > cfg.SampleLimit || float64(pageSamples) > scraped) {
		t.Fatalf("stored %d samples of the page; scraped %v, sample_limit %d", pageSamples, scraped, cfg.SampleLimit)
	}
	for ref, lset := range st.lsets {
		if !lset.Has(model.MetricNameLabel) || !lset.IsValid(model.UTF8Validation) {
			t.Fatalf("series %d has invalid labels: %q", ref, lset.String())
		}
		if name, dup := lset.HasDuplicateLabelNames(); dup {
			t.Fatalf("series %d has label %q twice: %q", ref, name, lset.String())
		}
		if lset.Get("job") != "fuzz" || lset.Get("instance") != l.tgt.Address {
			t.Fatalf("series %d lacks the target's labels: %q", ref, lset.String())
		}
		lset.Range(func(lb labels.Label) {
			if lb.Value == "" {
				t.Fatalf("series %d has an empty label %q: %q", ref, lb.Name, lset.String())
			}
		})
	}
	return health == HealthUp
}

// isReport tells the report series (up, scrape_*: a name, job and
// instance) from the page's; a page's series of the same name and labels is
// the same series, as in Prometheus.
func isReport(name string, n int) bool {
	if n != 3 {
		return false
	}
	for _, r := range reportSeries {
		if r.name == name {
			return true
		}
	}
	return false
}

// validHeaderValue reports whether s can travel as a header value.
func validHeaderValue(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

type scrapeSeed struct {
	body        []byte
	contentType string
	encoding    uint8
}

// scrapeSeeds are pages in every format the scraper reads: the start of the
// golden page as text and OpenMetrics, plain and gzipped, small pages with
// the grammar's corners, a protobuf page, and pages that must fail.
func scrapeSeeds(f *testing.F) []scrapeSeed {
	golden := readFile(f, goldenFile)
	// The first family, with three of its eight samples: small seeds keep
	// the fuzzer fast.
	lines := strings.SplitAfter(golden, "\n")
	head := strings.Join(lines[:5], "")
	om := toOpenMetrics(f, head)
	seeds := []scrapeSeed{
		{[]byte(head), textPlain, encIdentity},
		{[]byte(head), textPlain, encGzip},
		{[]byte(om), omType, encIdentity},
		{[]byte(om), "application/openmetrics-text; version=1.0.0; charset=utf-8", encGzip},
		{[]byte(head), "", encIdentity},
		{[]byte(head), "text/html", encIdentity},
		{[]byte(om), "application/openmetrics-text; version=0.0.1", encIdentity},
		{[]byte(om), "application/openmetrics-text; version=1.0.0", encBadGzip},
	}
	for _, page := range []string{
		"",
		"a 1\n",
		"a 1 1700000000000\n",
		"a{x=\"1\"} 1\na{x=\"1\"} 2\n", // a duplicate
		"a{x=\"\"} 1\n",                // an empty label is an absent one
		"a{job=\"x\",instance=\"y\",exported_job=\"z\"} 1\n",
		"{\"gpu.temp\",\"model.name\"=\"H100 \\\"SXM\\\"\\n\"} 1\n",
		"# HELP h A histogram.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n",
		"# TYPE s summary\ns{quantile=\"0.5\"} NaN\ns_sum 1e-3\ns_count 0x10\n",
		"a 1\nb\n",
		"<html><body>Welcome to nginx!</body></html>\n",
		"a{x=\"1\",x=\"2\"} 1\n",
		"{x=\"1\"} 1\n",
	} {
		seeds = append(seeds, scrapeSeed{[]byte(page), textPlain, encIdentity})
	}
	for _, page := range []string{
		"# EOF\n",
		"# TYPE a counter\n# UNIT a seconds\na_total 1 1700000000.5 # {t=\"x\"} 1 1700000000\n# EOF\n",
		"# TYPE i info\ni_info{v=\"1\"} 1\n# TYPE s stateset\ns{s=\"a\"} 1\ns{s=\"b\"} 0\n# EOF\n",
		"# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 1\ng_gcount 1\ng_gsum 1\n# EOF\n",
		"a 1\n", // no # EOF
		"a 1\n# EOF\nb 2\n",
	} {
		seeds = append(seeds, scrapeSeed{[]byte(page), omType, encIdentity})
	}
	var pb bytes.Buffer
	enc := expfmt.NewEncoder(&pb, expfmt.NewFormat(expfmt.TypeProtoDelim))
	mf := &dto.MetricFamily{
		Name: proto.String("gpu_temp_celsius"),
		Help: proto.String("Temperature."),
		Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{
			Label: []*dto.LabelPair{{Name: proto.String("gpu"), Value: proto.String("0")}},
			Gauge: &dto.Gauge{Value: proto.Float64(61)},
		}},
	}
	if err := enc.Encode(mf); err != nil {
		f.Fatal(err)
	}
	protoType := string(expfmt.NewFormat(expfmt.TypeProtoDelim))
	seeds = append(seeds, scrapeSeed{pb.Bytes(), protoType, encIdentity}, scrapeSeed{pb.Bytes(), protoType, encGzip})
	return seeds
}
