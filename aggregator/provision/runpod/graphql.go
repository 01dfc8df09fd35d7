package runpod

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxReply bounds how much of a reply is read.
const maxReply = 16 << 20

// GraphQLError is an error the API reported in an HTTP 200 reply.
type GraphQLError struct {
	Op       string
	Messages []string
}

func (e *GraphQLError) Error() string {
	return fmt.Sprintf("runpod %s: %s", e.Op, strings.Join(e.Messages, "; "))
}

// StatusError is a reply with an HTTP status other than 200.
type StatusError struct {
	Op         string
	Code       int
	Body       string // the start of the reply
	RetryAfter time.Duration
	hasAfter   bool
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("runpod %s: HTTP %d: %s", e.Op, e.Code, e.Body)
}

// transportError is a request that got no complete reply: refused, reset,
// timed out. The server may have acted on it.
type transportError struct {
	op  string
	err error
}

func (e *transportError) Error() string { return fmt.Sprintf("runpod %s: %v", e.op, e.err) }
func (e *transportError) Unwrap() error { return e.err }

// call sends one GraphQL operation once and decodes its data into out.
func (p *Provider) call(ctx context.Context, op, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables,omitempty"`
	}{query, vars})
	if err != nil {
		return fmt.Errorf("runpod %s: encode request: %w", op, err)
	}
	actx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, p.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("runpod %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.key)

	start := time.Now()
	resp, err := p.http.Do(req)
	if err != nil {
		return p.failed(ctx, op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return p.failed(ctx, op, err)
	}
	p.log.Debug("runpod request", "op", op, "status", resp.StatusCode, "duration", time.Since(start))
	if resp.StatusCode != http.StatusOK {
		after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return &StatusError{Op: op, Code: resp.StatusCode, Body: snippet(raw), RetryAfter: after, hasAfter: ok}
	}
	var reply struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return fmt.Errorf("runpod %s: decode reply: %w", op, err)
	}
	if len(reply.Errors) > 0 {
		e := &GraphQLError{Op: op}
		for _, m := range reply.Errors {
			e.Messages = append(e.Messages, m.Message)
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(reply.Data, out); err != nil {
		return fmt.Errorf("runpod %s: decode data: %w", op, err)
	}
	return nil
}

// failed reports a request without a reply: the caller's context ending is
// final, anything else (this attempt's timeout included) is transient.
func (p *Provider) failed(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("runpod %s: %w", op, ctx.Err())
	}
	return &transportError{op: op, err: err}
}

// snippet is the start of a reply body, on one line, for error messages.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
