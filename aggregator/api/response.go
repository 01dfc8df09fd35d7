package api

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/prometheus/util/annotations"
)

// Prometheus' cap on the warnings and infos listed in one response; the rest
// are counted in a last line.
const maxAnnotations = 10

// jsonAppender is data that writes its own JSON. Query results and series
// lists do, so that big ones are written without reflection.
type jsonAppender interface {
	appendJSON(e *encoder)
}

// rawJSON is data already encoded.
type rawJSON []byte

func (j rawJSON) appendJSON(e *encoder) { e.buf = append(e.buf, j...) }

// respond writes Prometheus' success envelope around data:
// {"status":"success","data":…,"warnings":[…],"infos":[…]}.
func (a *API) respond(w http.ResponseWriter, r *http.Request, data any, warnings annotations.Annotations) {
	body, ok := data.(jsonAppender)
	if !ok {
		b, err := json.Marshal(data)
		if err != nil {
			a.respondError(w, r, &apiError{errorInternal, err})
			return
		}
		body = rawJSON(b)
	}
	warn, info := warnings.AsStrings(r.FormValue("query"), maxAnnotations, maxAnnotations)
	a.writeJSON(w, r, http.StatusOK, func(e *encoder) {
		e.buf = append(e.buf, `{"status":"success","data":`...)
		body.appendJSON(e)
		if len(warn) > 0 {
			e.buf = append(e.buf, `,"warnings":`...)
			e.buf = appendStrings(e.buf, warn)
		}
		if len(info) > 0 {
			e.buf = append(e.buf, `,"infos":`...)
			e.buf = appendStrings(e.buf, info)
		}
		e.buf = append(e.buf, '}')
	})
}

// respondError writes {"status":"error","errorType":…,"error":…} with the
// status code of the error's type.
func (a *API) respondError(w http.ResponseWriter, r *http.Request, apiErr *apiError) {
	if apiErr.typ == errorInternal {
		a.logger.Error("api request failed", "path", r.URL.Path, "err", apiErr.err)
	}
	a.writeJSON(w, r, apiErr.typ.status(), func(e *encoder) {
		e.buf = append(e.buf, `{"status":"error","errorType":`...)
		e.buf = appendString(e.buf, string(apiErr.typ))
		e.buf = append(e.buf, `,"error":`...)
		e.buf = appendString(e.buf, apiErr.err.Error())
		e.buf = append(e.buf, '}')
	})
}

// writeJSON sends the header, then streams what body encodes, gzipped when
// the client accepts it (as Prometheus' API does; Grafana and Go clients
// ask for it).
func (a *API) writeJSON(w http.ResponseWriter, r *http.Request, status int, body func(*encoder)) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	var (
		out io.Writer = w
		gz  *gzip.Writer
	)
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		gz = gzipPool.Get().(*gzip.Writer)
		gz.Reset(w)
		out = gz
	}
	w.WriteHeader(status)
	e := getEncoder(out)
	defer putEncoder(e)
	body(e)
	e.flush()
	if gz != nil {
		if err := gz.Close(); err != nil && e.err == nil {
			e.err = err
		}
		gz.Reset(io.Discard)
		gzipPool.Put(gz)
	}
	if e.err != nil {
		a.logger.Debug("writing api response", "path", r.URL.Path, "err", e.err)
	}
}

var gzipPool = sync.Pool{New: func() any {
	// Speed over ratio: a dashboard's matrix is megabytes and the CPU is
	// shared with scraping.
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if strings.TrimSpace(coding) != "gzip" {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// encoder accumulates JSON in buf and hands it to w a chunk at a time, so a
// response of any size needs one small buffer. The first write error is
// kept and later output dropped.
type encoder struct {
	buf []byte
	w   io.Writer
	err error
}

// flushSize is how much an encoder gathers before writing.
const flushSize = 32 << 10

var encoderPool = sync.Pool{New: func() any { return &encoder{buf: make([]byte, 0, 2*flushSize)} }}

func getEncoder(w io.Writer) *encoder {
	e := encoderPool.Get().(*encoder)
	e.w, e.err = w, nil
	return e
}

func putEncoder(e *encoder) {
	if cap(e.buf) > 1<<20 {
		return // one huge series grew it; let it go
	}
	e.buf, e.w, e.err = e.buf[:0], nil, nil
	encoderPool.Put(e)
}

// maybeFlush writes the buffer out once it holds flushSize bytes.
func (e *encoder) maybeFlush() {
	if len(e.buf) >= flushSize {
		e.flush()
	}
}

func (e *encoder) flush() {
	if len(e.buf) > 0 && e.err == nil {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does
// (HTML characters too, as Prometheus' encoder does; invalid UTF-8 becomes
// U+FFFD).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendStrings appends a JSON array of strings.
func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// stringList is a list of names or values, never null.
type stringList []string

func (l stringList) appendJSON(e *encoder) { e.buf = appendStrings(e.buf, l) }
