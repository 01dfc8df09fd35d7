package chattest

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// maxBody is the largest request a server reads; services refuse far
// smaller ones.
const maxBody = 8 << 20

// Failure is a scripted reply in place of the service's normal answer.
type Failure struct {
	Status int // HTTP status
	// RetryAfter is sent as Retry-After (whole seconds, rounded up) and,
	// for Discord, as the body's retry_after.
	RetryAfter time.Duration
	// Body replaces the service's usual error body for Status.
	Body string
	// Header is added to the reply.
	Header http.Header
	// Hang holds the request without answering until the client gives up
	// (its timeout) or the test ends.
	Hang bool
}

// Reply is what a server answers.
type Reply struct {
	Status int
	Header http.Header
	Body   string
}

// service is how one chat service checks requests and answers.
type service[T any] interface {
	// accept decodes and validates a request as the service does: the
	// payload to record, or the service's error reply.
	accept(r *http.Request, body []byte) (T, *Reply)
	success() Reply
	failure(f Failure) Reply
	// gone answers for a deleted endpoint.
	gone() Reply
}

// Server is one fake service endpoint, recording the payloads (T) it
// accepted. Safe for concurrent use.
type Server[T any] struct {
	srv  *httptest.Server
	svc  service[T]
	quit chan struct{}

	mu       sync.Mutex
	script   []Failure
	down     bool
	deleted  bool
	attempts int
	received []T
	changed  chan struct{} // closed and replaced when a payload is accepted
}

func newServer[T any](t testing.TB, svc service[T]) *Server[T] {
	t.Helper()
	s := &Server[T]{svc: svc, quit: make(chan struct{}), changed: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		close(s.quit) // release hanging requests, or Close waits for them
		s.srv.Close()
	})
	return s
}

// URL is the endpoint's URL, as a webhook URL would be configured.
func (s *Server[T]) URL() string { return s.srv.URL + "/hook" }

// BaseURL is the server's root (http://127.0.0.1:port).
func (s *Server[T]) BaseURL() string { return s.srv.URL }

// Received are the payloads accepted so far, oldest first.
func (s *Server[T]) Received() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// Count is how many payloads were accepted.
func (s *Server[T]) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.received)
}

// Attempts is how many requests arrived, accepted or not.
func (s *Server[T]) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// FailNext answers the next n requests with status (and Retry-After when
// retryAfter is set), in the service's own error format.
func (s *Server[T]) FailNext(n, status int, retryAfter time.Duration) {
	s.Script(n, Failure{Status: status, RetryAfter: retryAfter})
}

// HangNext holds the next n requests until the client gives up.
func (s *Server[T]) HangNext(n int) { s.Script(n, Failure{Hang: true}) }

// Script queues n copies of f, after any failures already queued.
func (s *Server[T]) Script(n int, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.script = append(s.script, f)
	}
}

// SetDown starts (true) or ends an outage: while down, every request gets
// 503 Service Unavailable.
func (s *Server[T]) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Delete removes the endpoint for good, as deleting a webhook does: every
// request gets the service's answer for an unknown webhook (404, or Slack's
// no_service).
func (s *Server[T]) Delete() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted = true
}

// WaitCount waits until at least n payloads were accepted or ctx ends.
func (s *Server[T]) WaitCount(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		got, ch := len(s.received), s.changed
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Server[T]) serve(w http.ResponseWriter, r *http.Request) {
	// Read the whole body first: the request's context only ends with the
	// client's connection once the body is consumed.
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return
	}
	s.mu.Lock()
	s.attempts++
	var f *Failure
	switch {
	case s.deleted:
		s.mu.Unlock()
		write(w, s.svc.gone())
		return
	case s.down:
		f = &Failure{Status: http.StatusServiceUnavailable}
	case len(s.script) > 0:
		f = &s.script[0]
		s.script = s.script[1:]
	}
	s.mu.Unlock()
	if f != nil && f.Hang {
		select {
		case <-r.Context().Done():
		case <-s.quit:
		}
		return
	}
	if f != nil {
		write(w, s.svc.failure(*f))
		return
	}
	if r.Method != http.MethodPost {
		write(w, Reply{Status: http.StatusMethodNotAllowed, Body: "method not allowed"})
		return
	}
	if len(body) > maxBody {
		write(w, Reply{Status: http.StatusRequestEntityTooLarge, Body: "request entity too large"})
		return
	}
	payload, reject := s.svc.accept(r, body)
	if reject != nil {
		write(w, *reject)
		return
	}
	s.mu.Lock()
	s.received = append(s.received, payload)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	write(w, s.svc.success())
}

func write(w http.ResponseWriter, r Reply) {
	for k, vs := range r.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(r.Status)
	_, _ = io.WriteString(w, r.Body)
}

// failureHeader is f's headers plus Retry-After in whole seconds.
func failureHeader(f Failure) http.Header {
	h := http.Header{}
	for k, vs := range f.Header {
		h[k] = slices.Clone(vs)
	}
	if f.RetryAfter > 0 && h.Get("Retry-After") == "" {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
	}
	return h
}
