package agent

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// A scrape writes bytes the snapshot already holds. Each snapshot renders a
// format (text or OpenMetrics, plain or gzip) at most once, and the sampler
// renders ahead of time the formats that scrapers asked for recently, so a
// scrape neither gathers nor encodes nor compresses: it copies.

// recentlyWanted is how long a format a scraper asked for keeps being
// rendered ahead of time.
const recentlyWanted = 2 * time.Minute

// renderKey is one way of writing a snapshot.
type renderKey struct {
	format expfmt.Format
	gzip   bool
}

type rendering struct {
	once sync.Once
	body []byte
	err  error
}

// body returns the snapshot rendered as k, rendering it on first use.
func (s *snapshot) body(k renderKey) ([]byte, error) {
	s.mu.Lock()
	r := s.rendered[k]
	if r == nil {
		r = &rendering{}
		s.rendered[k] = r
	}
	s.mu.Unlock()
	r.once.Do(func() { r.body, r.err = render(s.familiesFor(k.format), k) })
	return r.body, r.err
}

func (s *snapshot) familiesFor(f expfmt.Format) []*dto.MetricFamily {
	if f.FormatType() == expfmt.TypeOpenMetrics {
		return s.openMetrics
	}
	return s.families
}

func render(fams []*dto.MetricFamily, k renderKey) ([]byte, error) {
	var buf bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
	} = &buf
	var zw *gzip.Writer
	if k.gzip {
		zw = gzipWriters.Get().(*gzip.Writer)
		defer gzipWriters.Put(zw)
		zw.Reset(&buf)
		w = zw
	}
	enc := expfmt.NewEncoder(w, k.format)
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			return nil, fmt.Errorf("encoding %s: %w", f.GetName(), err)
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		if err := c.Close(); err != nil { // OpenMetrics' "# EOF"
			return nil, err
		}
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// gzipWriters are reused: a new gzip.Writer allocates about 800 KiB.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// wantedFormats remembers which renderings scrapers asked for, and when.
type wantedFormats struct {
	mu   sync.Mutex
	last map[renderKey]time.Time
}

func (w *wantedFormats) note(k renderKey, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = map[renderKey]time.Time{}
	}
	w.last[k] = now
}

// recent lists the formats asked for within recentlyWanted of now.
func (w *wantedFormats) recent(now time.Time) []renderKey {
	w.mu.Lock()
	defer w.mu.Unlock()
	var keys []renderKey
	for k, t := range w.last {
		if now.Sub(t) > recentlyWanted {
			delete(w.last, k)
			continue
		}
		keys = append(keys, k)
	}
	return keys
}

// acceptedFormats are the exposition formats served, in order of preference
// when a scraper accepts several.
var acceptedFormats = expfmt.DefaultOpenMetricsAcceptedFormats()

// serveMetrics writes the latest snapshot in the format the scraper asked for.
func (a *Agent) serveMetrics(w http.ResponseWriter, r *http.Request) {
	k := renderKey{format: expfmt.NegotiateAccept(r.Header, acceptedFormats...), gzip: acceptsGzip(r.Header.Get("Accept-Encoding"))}
	a.sampler.wanted.note(k, time.Now())
	body, err := a.sampler.snapshot().body(k)
	if err != nil {
		a.logger.Error("rendering metrics", "err", err)
		http.Error(w, "rendering metrics failed; see the agent's log", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", string(k.format))
	h.Add("Vary", "Accept")
	h.Add("Vary", "Accept-Encoding")
	if k.gzip {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// acceptsGzip reads an Accept-Encoding header: gzip listed, and not with q=0.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
