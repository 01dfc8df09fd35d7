package remotewrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
)

// outcome sorts the answers to a request.
type outcome int

const (
	retry    outcome = iota // network error, timeout, 5xx, 429: send again later
	sent                    // 2xx
	rejected                // any other status: the batch can never succeed
)

type result struct {
	outcome    outcome
	status     int // HTTP status, 0 without an answer
	err        error
	retryAfter time.Duration // from Retry-After on 429 and 503
}

// maxErrBody is how much of an error answer's body goes into the error.
const maxErrBody = 256

// post sends one request body, as remote write 1.0 specifies.
func (q *Queue) post(ctx context.Context, body []byte, attempt int) result {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(q.cfg.RemoteTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, q.url, bytes.NewReader(body))
	if err != nil { // the URL was checked by New
		return result{outcome: rejected, err: fmt.Errorf("request for %s: invalid", q.redacted)}
	}
	for k, v := range q.cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", q.opts.UserAgent)
	if attempt > 0 {
		req.Header.Set("Retry-Attempt", strconv.Itoa(attempt))
	}
	if err := q.authorize(req); err != nil {
		return result{outcome: retry, err: err} // a credentials file may be back soon
	}
	start := time.Now()
	resp, err := q.client.Do(req)
	q.m.duration.Observe(time.Since(start).Seconds())
	if err != nil {
		return result{outcome: retry, err: q.requestError(ctx, err)}
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}()
	if resp.StatusCode/100 == 2 {
		return result{outcome: sent, status: resp.StatusCode}
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrBody))
	res := result{outcome: rejected, status: resp.StatusCode,
		err: fmt.Errorf("server returned HTTP status %s: %s", resp.Status, printable(msg))}
	if resp.StatusCode/100 == 5 || resp.StatusCode == http.StatusTooManyRequests {
		res.outcome = retry
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			res.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
	}
	return res
}

// requestError describes a failed request without its URL, which may hold
// secrets in its user info or query.
func (q *Queue) requestError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("post %s: no answer within remote_timeout %s", q.redacted, q.cfg.RemoteTimeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("post %s: %w", q.redacted, err)
}

// authorize adds the configured credentials, read anew for every request
// so that rotated files are picked up.
func (q *Queue) authorize(req *http.Request) error {
	switch a, b := q.cfg.Authorization, q.cfg.BasicAuth; {
	case a != nil:
		secret, err := a.Secret()
		if err != nil {
			return fmt.Errorf("authorization: %w", err)
		}
		typ := a.Type
		if typ == "" {
			typ = "Bearer"
		}
		req.Header.Set("Authorization", typ+" "+string(secret))
	case b != nil:
		password := string(b.Password)
		if b.PasswordFile != "" {
			p, err := os.ReadFile(b.PasswordFile)
			if err != nil {
				return fmt.Errorf("basic_auth: read password_file: %w", err)
			}
			password = string(bytes.TrimSpace(p))
		}
		req.SetBasicAuth(b.Username, password)
	}
	return nil
}

// printable keeps an error body readable in one log line.
func printable(b []byte) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, string(b)))
}

// newHTTPClient is the client for an endpoint's tls_config.
func newHTTPClient(c config.TLSConfig) (*http.Client, error) {
	tc, err := c.ClientConfig()
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tc,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     5 * time.Minute,
	}}, nil
}
