package web

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/gpu-watchdog/gpu-watchdog/internal/audit"
	"github.com/gpu-watchdog/gpu-watchdog/web/assets"
	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
	alertspage "github.com/gpu-watchdog/gpu-watchdog/web/pages/alerts"
	auditpage "github.com/gpu-watchdog/gpu-watchdog/web/pages/audit"
	"github.com/gpu-watchdog/gpu-watchdog/web/pages/login"
	"github.com/gpu-watchdog/gpu-watchdog/web/pages/node"
	"github.com/gpu-watchdog/gpu-watchdog/web/pages/nodes"
	"github.com/gpu-watchdog/gpu-watchdog/web/pages/overview"
	provisionpage "github.com/gpu-watchdog/gpu-watchdog/web/pages/provision"
	slurmpage "github.com/gpu-watchdog/gpu-watchdog/web/pages/slurm"
	"github.com/gpu-watchdog/gpu-watchdog/web/pages/targets"
	"github.com/gpu-watchdog/gpu-watchdog/web/query"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

// Options are what the dashboard shows and how.
type Options struct {
	Query    query.Engine
	Alerts   overview.Alerts
	Alerting alertspage.Source
	// AlertActions are what admins do on the Alerts page.
	AlertActions alertspage.Actions
	// Rules are the rules made in the dashboard (nil: no editor).
	Rules   alertspage.Rules
	Targets targets.Source
	// Provisioner launches and manages pods (nil: no provider configured);
	// PodNodes maps pod ids to their agents' node names.
	Provisioner provisionpage.Provisioner
	PodNodes    func() map[string]string
	// IdlePolicies are shown on the provisioning page (nil: none).
	IdlePolicies provisionpage.IdlePolicies
	// Auth decides who may see pages and act; nil: every page is public
	// and nothing can be changed.
	Auth *auth.Auth
	// Audit records every action; needed with Auth.
	Audit   *audit.Log
	Version string
	// SecureCookies marks the CSRF cookie Secure (as Auth does its own):
	// set when people reach the dashboard over HTTPS.
	SecureCookies bool
	// Refresh is how often pages update themselves in the browser
	// (fetching the page again, no reload); 0 turns it off.
	Refresh time.Duration
	Logger  *slog.Logger // nil: discard
}

// New returns the dashboard's handler: its pages and /static/.
func New(o Options) *echo.Echo {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Behind a proxy, trust nothing it did not set: the direct peer.
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = errorHandler(o.Logger)
	// The request log first, so a request that panics is still logged.
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, HandleError: true,
		LogValuesFunc: func(_ echo.Context, v middleware.RequestLoggerValues) error {
			o.Logger.Debug("dashboard request", "method", v.Method, "uri", v.URI, "status", v.Status, "latency", v.Latency)
			return nil
		},
	}))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(_ echo.Context, err error, stack []byte) error {
		o.Logger.Error("dashboard handler panicked", "err", err, "stack", string(stack))
		return err
	}}))
	e.Use(securityHeaders)
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// A page answering a form (its errors, a rule's test) has no
			// address to fetch again: only GETs refresh themselves.
			if m := c.Request().Method; m == http.MethodGet || m == http.MethodHead {
				c.SetRequest(c.Request().WithContext(ui.WithRefresh(c.Request().Context(), o.Refresh)))
			}
			return next(c)
		}
	})
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{MinLength: 1024}))
	if o.Auth != nil {
		e.Use(middleware.CSRFWithConfig(middleware.CSRFConfig{
			Skipper:        func(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/static/") },
			TokenLookup:    "form:_csrf,header:X-CSRF-Token",
			CookieName:     "gpuwd_csrf",
			CookiePath:     "/",
			CookieHTTPOnly: true,
			CookieSecure:   o.SecureCookies,
			CookieSameSite: http.SameSiteStrictMode,
			// A missing token is as forbidden as a wrong one (echo says 400).
			ErrorHandler: func(error, echo.Context) error {
				return echo.NewHTTPError(http.StatusForbidden, "This form is out of date or came from another site: reload the page and try again.")
			},
		}))
		e.Use(o.Auth.Middleware())
		(&login.Page{Sessions: o.Auth, Audit: o.Audit, Version: o.Version}).Register(e)
		(&auditpage.Page{Source: o.Audit, Version: o.Version}).Register(e)
	}

	static := http.StripPrefix("/static/", http.FileServerFS(assets.FS))
	e.GET("/static/*", echo.WrapHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") != "" { // versioned by content hash: never changes
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		if b, ok := ui.Extra[strings.TrimPrefix(r.URL.Path, "/static/")]; ok {
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
			_, _ = w.Write(b)
			return
		}
		static.ServeHTTP(w, r)
	})))
	(&overview.Page{Query: o.Query, Alerts: o.Alerts, Version: o.Version, Refresh: o.Refresh}).Register(e)
	(&nodes.Page{Query: o.Query, Version: o.Version}).Register(e)
	(&node.Page{Query: o.Query, Version: o.Version}).Register(e)
	(&slurmpage.Page{Query: o.Query, Version: o.Version}).Register(e)
	alerts := &alertspage.Page{Source: o.Alerting, Version: o.Version}
	if o.Auth != nil && o.Audit != nil {
		alerts.Actions, alerts.Rules, alerts.Audit = o.AlertActions, o.Rules, o.Audit
	}
	alerts.Register(e)
	(&targets.Page{Source: o.Targets, Version: o.Version}).Register(e)
	prov := &provisionpage.Page{Provisioner: o.Provisioner, Query: o.Query, PodNodes: o.PodNodes, Idle: o.IdlePolicies, Version: o.Version}
	if o.Audit != nil {
		prov.Audit = o.Audit
	}
	prov.Register(e)
	return e
}

// Routes are the net/http patterns of the dashboard's pages, for the
// server that mounts it beside the API.
var Routes = []string{"GET /{$}", "/nodes", "/nodes/", "/slurm", "/alerts", "/alerts/", "/targets", "/provision", "/provision/", "/static/", "/login", "/logout", "/audit"}

// securityHeaders: no framing, no sniffing, scripts and styles only from
// here, no referrer leaving the site.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		return next(c)
	}
}

// errorHandler answers errors in plain words; internal ones are logged and
// shown without their details.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code, msg := http.StatusInternalServerError, "Something went wrong on the server; it has been logged."
		if he, ok := err.(*echo.HTTPError); ok {
			code = he.Code
			msg = http.StatusText(code)
			if m, ok := he.Message.(string); ok && code < 500 {
				msg = m
			}
		} else {
			log.Error("dashboard request failed", "uri", c.Request().RequestURI, "err", err)
		}
		if strings.HasPrefix(c.Request().Header.Get("Accept"), "application/json") {
			_ = c.JSON(code, map[string]string{"error": msg})
			return
		}
		_ = c.String(code, msg)
	}
}
