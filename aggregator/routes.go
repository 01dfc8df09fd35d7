package aggregator

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/api"
)

// MaxRequestBody is the largest request body gpuwd takes, on any route: a
// larger one is refused with 413 after reading at most this much. Agent
// registrations are held to 64 KiB besides.
const MaxRequestBody = 1 << 20

func (s *Server) routes() http.Handler {
	mux := &routeMux{ServeMux: http.NewServeMux()}
	api.New(api.Options{
		Queryable:    s.store,
		Engine:       s.engine,
		Targets:      targetLister{s.scrape},
		Metadata:     metadataLister{s.scrape, s.store},
		Rules:        ruleLister{s.alerts.rules},
		QueryTimeout: s.opts.QueryTimeout,
		Version:      s.opts.Version,
		Revision:     s.opts.Revision,
		Logger:       s.log.With("component", "api"),
	}).Register(mux)
	s.registerAlerting(mux)
	s.registerDashboard(mux)
	s.disc.Register(mux)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "gpuwd is Healthy.") })
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "gpuwd is Ready.") })
	if s.opts.EnableLifecycle {
		mux.HandleFunc("POST /-/reload", s.serveReload)
	}
	mux.HandleFunc("GET /api", s.serveIndex)
	mux.HandleFunc("GET /api/v1/audit", s.serveAudit)
	s.mux = mux
	// No browser may change anything from another site's page: the
	// dashboard's forms carry CSRF tokens besides, and this also covers
	// the API, POST /-/reload (which needs no login) included.
	return http.NewCrossOriginProtection().Handler(limitBodies(s.guardAPI(mux)))
}

// serveReload is POST /-/reload: 200 when the configuration was reloaded,
// 500 with the reason (file, line, problem) when it was refused.
func (s *Server) serveReload(w http.ResponseWriter, _ *http.Request) {
	if err := s.Reload(); err != nil {
		s.log.Error("reload failed; keeping the running configuration", "err", err)
		http.Error(w, "reload failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "reloaded")
}

// routeMux is the server's mux, keeping the patterns registered on it.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(f))
}

// mount hands pattern to h, which has routes of its own (the dashboard).
func (m *routeMux) mount(pattern string, h http.Handler) { m.ServeMux.Handle(pattern, h) }

// Route is a method and a path the server answers, as a net/http pattern
// writes it ("/api/v2/silence/{id}") or as echo does ("/nodes/:name").
type Route struct {
	Method, Path string
	// Dashboard: a page or form, which takes the session cookie (and a
	// CSRF token); otherwise the API, which takes Authorization headers.
	Dashboard bool
}

// Routes are every route the server serves, the API's and the dashboard's,
// so tests can check that each one is guarded as it should be.
func (s *Server) Routes() []Route {
	var out []Route
	for _, p := range s.mux.patterns {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			method, path = "", p // any method
		}
		out = append(out, Route{Method: method, Path: path})
	}
	for _, r := range s.dash.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path, Dashboard: true})
	}
	slices.SortFunc(out, func(a, b Route) int { return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method) })
	return out
}

// Handler is what the server serves, for tests that call it directly.
func (s *Server) Handler() http.Handler { return s.http.Handler }

// limitBodies refuses a request body over MaxRequestBody with 413, having
// read at most that much, and hands the body on in memory otherwise, so
// no handler reads more whatever it does with a body that is too large.
func limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		tooLarge := fmt.Sprintf("request body is larger than %d bytes", MaxRequestBody)
		if r.ContentLength > MaxRequestBody {
			writeJSONError(w, http.StatusRequestEntityTooLarge, tooLarge)
			return
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBody+1))
		switch {
		case err != nil:
			writeJSONError(w, http.StatusBadRequest, "reading the request body: "+err.Error())
			return
		case len(b) > MaxRequestBody:
			writeJSONError(w, http.StatusRequestEntityTooLarge, tooLarge)
			return
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		next.ServeHTTP(w, r)
	})
}
