package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxErrorBody is how much of an error response is read for its reason.
const maxErrorBody = 4 << 10

// Request is one HTTP request to a service.
type Request struct {
	Method      string // POST when empty
	URL         string // may hold a token: never logged, never in errors
	ContentType string
	Body        []byte
	Header      http.Header
	// OnError, when set, refines the classification of a non-2xx reply
	// with the service's own rules (a deleted webhook, a rate limit given
	// in the body).
	OnError func(e *Error, h http.Header, body []byte)
}

// Response is a 2xx reply, with its body (up to 64 KiB) for services that
// answer with details.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Do sends r with client and classifies the outcome: 2xx succeeds; 429 and
// 5xx are retryable, with Retry-After honoured; network errors and timeouts
// are retryable; other statuses are permanent. Errors carry the status and
// the start of the service's reply, never the URL.
func Do(ctx context.Context, client *http.Client, r Request) (*Response, error) {
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, Permanent("bad request: %v", Redact(err))
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "gpuwd")
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, &Error{Retry: true, Reason: "timed out: " + ctx.Err().Error()}
		}
		return nil, &Error{Retry: true, Reason: Redact(err).Error()}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil {
			// The service accepted the message; a broken reply body does
			// not make it undelivered.
			body = nil
		}
		return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := StatusError(resp.StatusCode, resp.Header, body)
	if r.OnError != nil {
		r.OnError(e, resp.Header, body)
	}
	return nil, e
}

// StatusError classifies a non-2xx reply.
func StatusError(status int, h http.Header, body []byte) *Error {
	e := &Error{StatusCode: status, Reason: fmt.Sprintf("%d %s", status, http.StatusText(status))}
	if text := shortText(body); text != "" {
		e.Reason += ": " + text
	}
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		e.Retry = true
		e.RetryAfter = RetryAfter(h, time.Now())
	case status == http.StatusRequestTimeout:
		e.Retry = true
	}
	return e
}

// RetryAfter reads a Retry-After header: seconds (fractions allowed, as
// Discord sends) or an HTTP date. Zero when absent or unreadable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// shortText is the start of a reply body on one line, for error reasons.
func shortText(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Redact drops the URL from an HTTP client error: *url.Error prints the
// whole URL, and webhook URLs are secrets.
func Redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		inner := ue.Err
		var ne net.Error
		if errors.As(inner, &ne) && ne.Timeout() {
			return fmt.Errorf("%s: timeout: %w", ue.Op, stripURL(inner, ue.URL))
		}
		return fmt.Errorf("%s: %w", ue.Op, stripURL(inner, ue.URL))
	}
	return err
}

// stripURL guards against an inner error that repeats the URL.
func stripURL(err error, u string) error {
	if u != "" && strings.Contains(err.Error(), u) {
		return errors.New(strings.ReplaceAll(err.Error(), u, "<url>"))
	}
	return err
}

// JSON encodes v as a request body, leaving <, > and & as they are:
// json.Marshal escapes them for HTML, which no service needs, and Slack's
// <url|text> links stay readable in logs and test files.
func JSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
