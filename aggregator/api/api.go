package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// Options are what the API answers from. Queryable and Engine are required;
// the rest may be left zero.
type Options struct {
	Queryable storage.Queryable // the store
	// Engine evaluates queries; its caller sets Timeout, MaxSamples and
	// LookbackDelta.
	Engine   *promql.Engine
	Targets  TargetLister   // nil: no targets
	Metadata MetadataLister // nil: no metadata
	Rules    RuleLister     // nil: no rule groups and no alerts
	// QueryTimeout is the default of the timeout parameter and its upper
	// bound; zero leaves only the engine's own timeout.
	QueryTimeout time.Duration
	// Version and Revision are shown by /api/v1/status/buildinfo.
	Version, Revision string
	// Flags are shown by /api/v1/status/flags (the command line, by flag
	// name without dashes).
	Flags  map[string]string
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now
}

// API serves the Prometheus HTTP API. Register its handlers on a mux.
type API struct {
	queryable    storage.Queryable
	engine       *promql.Engine
	parser       parser.Parser
	targets      TargetLister
	metadata     MetadataLister
	rules        RuleLister
	queryTimeout time.Duration
	build        versionInfo
	flags        map[string]string
	logger       *slog.Logger
	now          func() time.Time
	started      time.Time
}

// New returns an API answering from o. It panics without o.Queryable or
// o.Engine.
func New(o Options) *API {
	if o.Queryable == nil || o.Engine == nil {
		panic("api: Options.Queryable and Options.Engine are required")
	}
	a := &API{
		queryable:    o.Queryable,
		engine:       o.Engine,
		parser:       parser.NewParser(parser.Options{}),
		targets:      o.Targets,
		metadata:     o.Metadata,
		rules:        o.Rules,
		queryTimeout: o.QueryTimeout,
		build:        newVersionInfo(o.Version, o.Revision),
		flags:        o.Flags,
		logger:       o.Logger,
		now:          o.Now,
	}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.flags == nil {
		a.flags = map[string]string{}
	}
	a.started = a.now()
	return a
}

// Register adds the API's endpoints, all under /api/v1/, to mux. Endpoints
// that Prometheus answers on POST too (query, query_range, series, labels,
// query_exemplars, format_query) accept form-encoded POST bodies.
func (a *API) Register(mux Mux) {
	both := func(path string, f apiFunc) {
		h := a.handle(f)
		mux.Handle("GET /api/v1/"+path, h)
		mux.Handle("POST /api/v1/"+path, h)
	}
	get := func(path string, f apiFunc) { mux.Handle("GET /api/v1/"+path, a.handle(f)) }

	both("query", a.query)
	both("query_range", a.queryRange)
	both("query_exemplars", a.queryExemplars)
	both("format_query", a.formatQuery)
	both("series", a.series)
	both("labels", a.labelNames)
	get("label/{name}/values", a.labelValues)
	get("metadata", a.metricMetadata)
	get("targets", a.listTargets)
	get("rules", a.listRules)
	get("alerts", a.listAlerts)
	get("status/buildinfo", a.buildInfo)
	get("status/runtimeinfo", a.runtimeInfo)
	get("status/flags", a.serveFlags)
}

// Mux is where Register adds the endpoints: an *http.ServeMux, or one
// that also keeps the list of routes.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// apiFunc is one endpoint: it reads the request and says what to answer.
type apiFunc func(r *http.Request) result

// result is an endpoint's answer. With neither data nor err the answer is 204
// No Content. finalize, when set, runs after the response is written (it
// releases a query's result, which the response still reads).
type result struct {
	data     any
	err      *apiError
	warnings annotations.Annotations
	finalize func()
}

func (a *API) handle(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			a.respondError(w, r, badData(fmt.Errorf("error parsing form values: %w", err)))
			return
		}
		res := f(r)
		if res.finalize != nil {
			defer res.finalize()
		}
		switch {
		case res.err != nil:
			a.respondError(w, r, res.err)
		case res.data == nil:
			w.WriteHeader(http.StatusNoContent)
		default:
			a.respond(w, r, res.data, res.warnings)
		}
	})
}

// errorType is Prometheus' errorType field; each has its status code.
type errorType string

const (
	errorTimeout  errorType = "timeout"
	errorCanceled errorType = "canceled"
	errorExec     errorType = "execution"
	errorBadData  errorType = "bad_data"
	errorInternal errorType = "internal"
)

// statusClientClosedRequest is nginx's 499, which Prometheus answers when the
// client went away before the query finished.
const statusClientClosedRequest = 499

func (t errorType) status() int {
	switch t {
	case errorBadData:
		return http.StatusBadRequest
	case errorExec:
		return http.StatusUnprocessableEntity
	case errorCanceled:
		return statusClientClosedRequest
	case errorTimeout:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

type apiError struct {
	typ errorType
	err error
}

func (e *apiError) Error() string { return string(e.typ) + ": " + e.err.Error() }

func badData(err error) *apiError { return &apiError{errorBadData, err} }

// invalidParam is Prometheus' answer to a parameter it cannot use.
func invalidParam(err error, name string) result {
	return result{err: badData(fmt.Errorf("invalid parameter %q: %w", name, err))}
}

// errorFrom classifies an error from the engine or the store as Prometheus'
// returnAPIError does: timeouts and cancellations by cause, storage failures
// as internal, everything else (too many samples included) as execution.
func errorFrom(err error) *apiError {
	var (
		canceled promql.ErrQueryCanceled
		timeout  promql.ErrQueryTimeout
		store    promql.ErrStorage
	)
	switch {
	case errors.As(err, &canceled):
		return &apiError{errorCanceled, err}
	case errors.As(err, &timeout):
		return &apiError{errorTimeout, err}
	case errors.As(err, &store):
		return &apiError{errorInternal, err}
	case errors.Is(err, context.Canceled):
		return &apiError{errorCanceled, err}
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{errorTimeout, err}
	}
	return &apiError{errorExec, err}
}
