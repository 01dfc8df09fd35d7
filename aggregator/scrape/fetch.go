package scrape

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// bodies are reused between scrapes of all targets; scrapes spread over the
// interval, so few are held at once.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer worth keeping for the next scrape.
const maxPooledBody = 16 << 20

func getBody() *bytes.Buffer {
	b := bodies.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBody(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBody {
		bodies.Put(b)
	}
}

// fetch GETs the target's page into buf (decompressed by the transport, at
// most the job's body_size_limit) and returns its Content-Type.
func (l *loop) fetch(ctx context.Context, buf *bytes.Buffer) (string, error) {
	if l.reqErr != nil {
		return "", failure(resultHTTP, l.reqErr)
	}
	if a := l.job.cfg.Authorization; a != nil {
		secret, err := a.Secret() // read every time: token files rotate
		if err != nil {
			return "", failure(resultHTTP, fmt.Errorf("authorization: %w", err))
		}
		typ := a.Type
		if typ == "" {
			typ = "Bearer"
		}
		l.req.Header.Set("Authorization", typ+" "+string(secret))
	}
	resp, err := l.job.client.Do(l.req.WithContext(ctx))
	if err != nil {
		return "", l.fetchError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10) // let a short error page free the connection
		return "", failure(resultHTTP, fmt.Errorf("server returned HTTP status %s", resp.Status))
	}
	limit := l.job.cfg.BodySizeLimit
	// Room for a page like the last one, so reading does not grow and copy.
	buf.Grow(int(min(int64(l.lastSize+l.lastSize/8+1024), limit+1)))
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return "", l.fetchError(ctx, err)
	}
	if n > limit {
		return "", failure(resultBodySize, fmt.Errorf("body size limit exceeded (%d bytes)", limit))
	}
	if n > 0 { // a misbehaving empty answer should not shrink the estimate
		l.lastSize = int(n)
	}
	return resp.Header.Get("Content-Type"), nil
}

// fetchError names a timeout as such; other errors (connection refused,
// TLS, a broken gzip stream) are the transport's own words.
func (l *loop) fetchError(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return failure(resultTimeout, fmt.Errorf("context deadline exceeded (timeout %s)", l.job.timeoutString()))
	}
	return failure(resultHTTP, err)
}
