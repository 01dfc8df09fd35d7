package amapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/dispatch"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/route"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/silence"
)

// CompatibleVersion is the Alertmanager release whose API v2 this package
// follows, and the version /api/v2/status reports: amtool compares it with
// its own and warns when the major and minor versions differ. gpuwd's own
// version is in versionInfo.revision.
const CompatibleVersion = "0.28.1"

// Dispatcher is what the API reads about alerts (dispatch.Dispatcher).
type Dispatcher interface {
	Alerts() []dispatch.AlertStatus
	Groups() []dispatch.GroupStatus
	Config() *route.Config
}

// Silences is the silence store (silence.Store).
type Silences interface {
	Set(ctx context.Context, s silence.Silence) (string, error)
	Expire(ctx context.Context, id string) error
	Get(id string) (silence.Silence, error)
	List(q silence.Query) []silence.Silence
}

// Options are what the API answers from. Dispatcher and Silences are
// required.
type Options struct {
	Dispatcher Dispatcher
	Silences   Silences
	// Version is gpuwd's version, shown in /api/v2/status.
	Version string
	Now     func() time.Time // nil: time.Now
	Logger  *slog.Logger     // nil: discard
}

// API serves Alertmanager's API v2 under /api/v2/.
type API struct {
	d       Dispatcher
	s       Silences
	version string
	now     func() time.Time
	logger  *slog.Logger
	started time.Time
}

// New returns the API. It panics without o.Dispatcher or o.Silences.
func New(o Options) *API {
	if o.Dispatcher == nil || o.Silences == nil {
		panic("amapi: Options.Dispatcher and Options.Silences are required")
	}
	a := &API{d: o.Dispatcher, s: o.Silences, version: o.Version, now: o.Now, logger: o.Logger}
	if a.now == nil {
		a.now = time.Now
	}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	a.started = a.now()
	return a
}

// Mux is where Register adds the endpoints: an *http.ServeMux, or one
// that also keeps the list of routes.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Register adds the endpoints to mux.
func (a *API) Register(mux Mux) {
	h := func(pattern string, f http.HandlerFunc) {
		mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			f(w, r)
		}))
	}
	h("GET /api/v2/status", a.status)
	h("GET /api/v2/receivers", a.receivers)
	h("GET /api/v2/alerts", a.alerts)
	h("GET /api/v2/alerts/groups", a.groups)
	h("GET /api/v2/silences", a.listSilences)
	h("POST /api/v2/silences", a.postSilence)
	h("GET /api/v2/silence/{id}", a.getSilence)
	h("DELETE /api/v2/silence/{id}", a.deleteSilence)
}

// writeJSON answers v with status.
func (a *API) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		a.logger.Error("amapi: encoding the answer", "err", err)
		status, b = http.StatusInternalServerError, []byte(`"internal error"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeError answers msg as Alertmanager does: a JSON string.
func (a *API) writeError(w http.ResponseWriter, status int, msg string) {
	a.writeJSON(w, status, msg)
}

// writeSchemaError answers a request that breaks the API's schema as
// Alertmanager's go-swagger server does: {"code":…,"message":…}.
func (a *API) writeSchemaError(w http.ResponseWriter, status, code int, msg string) {
	a.writeJSON(w, status, map[string]any{"code": code, "message": msg})
}

type versionInfo struct {
	Branch    string `json:"branch"`
	BuildDate string `json:"buildDate"`
	BuildUser string `json:"buildUser"`
	GoVersion string `json:"goVersion"`
	Revision  string `json:"revision"`
	Version   string `json:"version"`
}

type clusterStatus struct {
	Peers  []any  `json:"peers"`
	Status string `json:"status"`
}

// status is /api/v2/status: no cluster (gpuwd runs alone), the
// configuration with its secrets hidden, and the start time.
func (a *API) status(w http.ResponseWriter, _ *http.Request) {
	a.writeJSON(w, http.StatusOK, struct {
		Cluster     clusterStatus     `json:"cluster"`
		Config      map[string]string `json:"config"`
		Uptime      string            `json:"uptime"`
		VersionInfo versionInfo       `json:"versionInfo"`
	}{
		Cluster: clusterStatus{Peers: []any{}, Status: "disabled"},
		Config:  map[string]string{"original": a.d.Config().String()},
		Uptime:  silence.FormatTime(a.started),
		VersionInfo: versionInfo{
			Branch:    "gpuwd",
			GoVersion: runtime.Version(),
			Revision:  a.version,
			Version:   CompatibleVersion,
		},
	})
}

type receiver struct {
	Name string `json:"name"`
}

// receivers is /api/v2/receivers: the configured receivers' names.
func (a *API) receivers(w http.ResponseWriter, _ *http.Request) {
	cfg := a.d.Config()
	out := make([]receiver, 0, len(cfg.Receivers))
	for _, r := range cfg.Receivers {
		out = append(out, receiver{r.Name})
	}
	a.writeJSON(w, http.StatusOK, out)
}
