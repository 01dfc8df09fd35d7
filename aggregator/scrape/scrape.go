package scrape

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/timestamp"
)

// scrapeError is a failed scrape and its result label.
type scrapeError struct {
	result string
	err    error
}

func (e *scrapeError) Error() string { return e.err.Error() }
func (e *scrapeError) Unwrap() error { return e.err }

func failure(result string, err error) error { return &scrapeError{result: result, err: err} }

func resultOf(err error) string {
	if err == nil {
		return resultSuccess
	}
	var se *scrapeError
	if errors.As(err, &se) {
		return se.result
	}
	return resultHTTP
}

// maxErrorLen bounds the error a status shows (a parse error quotes the
// offending line).
const maxErrorLen = 512

// counts are a page's numbers for the report series.
type counts struct{ scraped, kept, added int }

// scrapeOnce scrapes the target and writes the outcome stamped ts: the
// samples, stale markers for what disappeared and the report series on
// success; stale markers for everything and up=0 on failure. It returns
// false, having written nothing, when the loop was stopped meanwhile.
func (l *loop) scrapeOnce(ts time.Time) bool {
	l.cache.begin()
	t := timestamp.FromTime(ts)
	start := l.now()

	ctx, cancel := context.WithTimeout(l.ctx, l.job.timeout)
	body := getBody()
	contentType, err := l.fetch(ctx, body)
	cancel()
	if l.ctx.Err() != nil {
		putBody(body)
		return false
	}
	var n counts
	if err == nil {
		n, err = l.read(body.Bytes(), contentType, t)
	}
	putBody(body)
	return l.write(t, start, l.now().Sub(start), n, err)
}

// read parses a page into the cache's scratch: samples with references.
func (l *loop) read(b []byte, contentType string, t int64) (n counts, err error) {
	c := l.cache
	if len(b) == 0 {
		// As in Prometheus: an empty page is an empty scrape, whatever its
		// format, and the cache is kept for the next page.
		c.keepCache = true
		return n, nil
	}
	n.scraped, n.kept, err = c.parse(b, contentType, t, l.job.cfg.SampleLimit, l.tl, l.job.cfg.HonorLabels)
	if err != nil || c.fast {
		return n, err
	}
	if n.added, err = c.resolve(l.m.st); err != nil {
		return n, failure(resultStore, fmt.Errorf("storing samples: %w", err))
	}
	c.recordLayout(b, contentType)
	return n, nil
}

// write stores a scrape's outcome (err is the scrape's failure, if any),
// with its stale markers and report series, and records it.
func (l *loop) write(t int64, start time.Time, dur time.Duration, n counts, err error) bool {
	c := l.cache
	if err != nil {
		c.samples = c.samples[:0]
		n.added = 0
	}
	c.appendStale(t, err != nil)
	storeErr := l.appendReport(t, err == nil, dur, n)
	if storeErr == nil {
		actx, cancel := context.WithTimeout(l.ctx, l.job.interval)
		storeErr = l.m.st.Append(actx, c.samples)
		cancel()
		if storeErr != nil && l.ctx.Err() != nil {
			return false // stopped while writing
		}
	}
	switch {
	case storeErr != nil:
		c.cur = c.cur[:0] // the last stored scrape stays the reference for staleness
		if err == nil {
			err = failure(resultStore, fmt.Errorf("storing samples: %w", storeErr))
		}
	case err == nil:
		c.succeeded(t)
		c.meta.flush(l.m.st, &l.m.meta)
		l.jm.samples.Add(float64(len(c.samples)))
	default:
		c.failed(t)
		l.jm.samples.Add(float64(len(c.samples)))
	}
	l.noteStore(storeErr)
	l.noteDuplicates(c.dups)
	l.record(start, l.now().Sub(start), dur, err)
	return true
}

// record updates the target's status and the metrics, and logs when the
// target's state changes (not on every failed scrape).
func (l *loop) record(start time.Time, total, dur time.Duration, err error) {
	result := resultOf(err)
	l.jm.scraped(result)
	l.jm.duration.Observe(total.Seconds())
	if result == resultSampleLimit {
		l.jm.limitHits.Inc()
	}
	msg := ""
	health := HealthUp
	if err != nil {
		msg = err.Error()
		if len(msg) > maxErrorLen {
			msg = msg[:maxErrorLen] + "…"
		}
		health = HealthDown
	}
	l.mu.Lock()
	was, wasErr := l.health, l.lastErr
	l.health, l.lastErr, l.lastScrape, l.lastDur = health, msg, start, dur
	l.mu.Unlock()
	switch {
	case err != nil && msg != wasErr:
		l.log.Warn("Scrape failed", "err", msg)
	case err == nil && was == HealthDown:
		l.log.Info("Scrape succeeded again")
	}
}

// noteStore logs a storage error when it starts or changes, and its end.
func (l *loop) noteStore(err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	switch {
	case msg == l.storeErr:
	case msg == "":
		l.log.Info("Storing samples works again")
	default:
		l.log.Error("Storing samples failed", "err", msg)
	}
	l.storeErr = msg
}

// noteDuplicates counts samples dropped as duplicates, warning when a target
// starts exposing them.
func (l *loop) noteDuplicates(n int) {
	if n > 0 {
		l.jm.duplicates.Add(float64(n))
		if l.dups == 0 {
			l.log.Warn("Series exposed more than once in a scrape; the duplicates are dropped", "count", n)
		}
	}
	l.dups = n
}
