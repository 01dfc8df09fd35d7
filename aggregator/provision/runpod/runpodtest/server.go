package runpodtest

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// DefaultAPIKey is the key the fake accepts unless Options.APIKey is set.
const DefaultAPIKey = "runpodtest-key"

// Options configure a fake server; the zero value is usable.
type Options struct {
	APIKey   string    // default DefaultAPIKey
	GPUTypes []GPUType // default DefaultGPUTypes()
	// ManualStart keeps created and resumed pods without a runtime until
	// Start or StartAll; otherwise they get one StartDelay after.
	ManualStart bool
	StartDelay  time.Duration
	// RetryAfter is the Retry-After header of injected 429s (default "0").
	RetryAfter string
	Now        func() time.Time // default time.Now
}

// Server is a running fake. Close it when done.
type Server struct {
	URL string // the GraphQL endpoint

	http *httptest.Server
	opts Options
	done chan struct{}

	mu          sync.Mutex
	pods        map[string]*pod
	order       []string // pod ids, oldest first
	nextID      int
	requests    int
	creates     int
	injected    []reply            // answers to the next requests, instead of serving them
	afterCreate []reply            // answers to the next creates, after the pod is made
	opInjected  map[string][]reply // by operation: answers to its next requests
	opFailing   map[string]int     // by operation: the HTTP status it answers until cleared
}

// The operations the fake serves, by their root field, for the *Op fault
// injections.
const (
	OpGPUTypes  = "gpuTypes"
	OpList      = "myself" // myself { pods }: the account's pods
	OpGet       = "pod"
	OpCreate    = "podFindAndDeployOnDemand"
	OpStop      = "podStop"
	OpResume    = "podResume"
	OpTerminate = "podTerminate"
)

// reply is an injected answer: an HTTP status, a GraphQL error, or a
// stalled or dropped connection.
type reply struct {
	status  int
	message string
	stall   bool
	drop    bool
}

// New starts a fake server on 127.0.0.1.
func New(opts Options) *Server {
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.GPUTypes == nil {
		opts.GPUTypes = DefaultGPUTypes()
	}
	if opts.RetryAfter == "" {
		opts.RetryAfter = "0"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, done: make(chan struct{}), pods: map[string]*pod{},
		opInjected: map[string][]reply{}, opFailing: map[string]int{}}
	s.http = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.http.URL + "/graphql"
	return s
}

// Close releases stalled requests and stops the server.
func (s *Server) Close() {
	close(s.done)
	s.http.Close()
}

// FailNext makes the next n requests answer the HTTP status (429s carry
// Options.RetryAfter).
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.injected = append(s.injected, reply{status: status})
	}
}

// GraphQLErrorNext makes the next request answer HTTP 200 with a GraphQL
// error carrying msg.
func (s *Server) GraphQLErrorNext(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.injected = append(s.injected, reply{message: msg})
}

// FailNextOp makes the next n requests for operation op (OpCreate, OpList,
// …) answer the HTTP status, whatever other requests come in between (429s
// carry Options.RetryAfter). They are answered before the operation runs:
// nothing is done.
func (s *Server) FailNextOp(op string, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.opInjected[op] = append(s.opInjected[op], reply{status: status})
	}
}

// GraphQLErrorNextOp makes the next request for operation op answer HTTP
// 200 with a GraphQL error carrying msg, without running it.
func (s *Server) GraphQLErrorNextOp(op, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opInjected[op] = append(s.opInjected[op], reply{message: msg})
}

// FailOp makes every request for operation op answer the HTTP status
// until FailOp(op, 0) (an outage of one part of the API).
func (s *Server) FailOp(op string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.opFailing, op)
		return
	}
	s.opFailing[op] = status
}

// CreateTimesOutButSucceeds makes the next create make its pod and then
// hold the reply until the client gives up.
func (s *Server) CreateTimesOutButSucceeds() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterCreate = append(s.afterCreate, reply{stall: true})
}

// CreateFailsButSucceeds makes the next create make its pod and then
// answer the HTTP status, or drop the connection when status is 0.
func (s *Server) CreateFailsButSucceeds(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterCreate = append(s.afterCreate, reply{status: status, drop: status == 0})
}

// Pending counts the injected answers not given yet (FailNext,
// GraphQLErrorNext, the *Op ones and the creates' failures; not FailOp's
// outages), so tests can tell every fault they set up was met.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.injected) + len(s.afterCreate)
	for _, q := range s.opInjected {
		n += len(q)
	}
	return n
}

// Requests counts the HTTP requests received, failed ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Creates counts the pods created.
func (s *Server) Creates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	var inj *reply
	if len(s.injected) > 0 {
		inj = &s.injected[0]
		s.injected = s.injected[1:]
	}
	s.mu.Unlock()
	if inj != nil {
		s.answer(w, r, *inj, "")
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+s.opts.APIKey)) != 1 {
		writeJSON(w, http.StatusUnauthorized, errorBody("unauthorized", ""))
		return
	}
	var req struct {
		Query     string                     `json:"query"`
		Variables map[string]json.RawMessage `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody("bad request: "+err.Error(), ""))
		return
	}
	field, err := rootField(req.Query)
	if err != nil {
		writeJSON(w, http.StatusOK, errorBody(err.Error(), ""))
		return
	}
	if inj, ok := s.opFault(field); ok {
		s.answer(w, r, inj, field)
		return
	}
	s.operate(w, r, field, req.Variables["input"])
}

// opFault is the injected answer to a request for op, if any.
func (s *Server) opFault(op string) (reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.opInjected[op]; len(q) > 0 {
		s.opInjected[op] = q[1:]
		return q[0], true
	}
	if status, ok := s.opFailing[op]; ok {
		return reply{status: status}, true
	}
	return reply{}, false
}

// answer writes an injected reply; field names the operation for errors.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, rep reply, field string) {
	switch {
	case rep.stall:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
	case rep.drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
	case rep.message != "":
		writeJSON(w, http.StatusOK, errorBody(rep.message, field))
	default:
		if rep.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", s.opts.RetryAfter)
		}
		writeJSON(w, rep.status, errorBody(http.StatusText(rep.status), ""))
	}
}

func errorBody(msg, field string) map[string]any {
	body := map[string]any{"errors": []map[string]any{{"message": msg}}}
	if field != "" {
		body["data"] = map[string]any{field: nil}
	}
	return body
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
