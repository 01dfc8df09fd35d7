package auth

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gpu-watchdog/gpu-watchdog/internal/audit"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

// Middleware finds who is logged in and records it as the ui.Viewer
// (with the CSRF token the CSRF middleware, which must run first, put in
// the context under "csrf"). Without a login and unless the dashboard is
// public, pages redirect to /login; /login, /logout and /static/ stay open.
func (a *Auth) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			user, err := a.Session(r.Context(), r)
			if err != nil {
				return err
			}
			csrf, _ := c.Get("csrf").(string)
			c.SetRequest(r.WithContext(ui.WithViewer(r.Context(), ui.Viewer{User: user, CSRF: csrf, Login: true})))
			if user == "" && !a.Public() && !open(r.URL.Path) {
				return needLogin(c)
			}
			return next(c)
		}
	}
}

func open(path string) bool {
	return path == "/login" || path == "/logout" || strings.HasPrefix(path, "/static/")
}

// RequireAdmin guards a route that changes state (or shows the audit
// log): without a logged-in admin, a page asks to log in and an action is
// refused.
func RequireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !ui.Admin(c.Request().Context()) {
			return needLogin(c)
		}
		return next(c)
	}
}

func needLogin(c echo.Context) error {
	r := c.Request()
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(r.URL.RequestURI()))
	}
	return echo.NewHTTPError(http.StatusForbidden, "Log in as an admin to do this.")
}

// Auditor records actions before they run.
type Auditor interface {
	Begin(ctx context.Context, e audit.Entry) (func(error), error)
}

// Act runs fn as the logged-in admin's action, recorded in the audit log
// first (action, target and detail in e; who and from where are filled
// in). When the entry cannot be written fn does not run.
func Act(c echo.Context, log Auditor, e audit.Entry, fn func() error) error {
	ctx := c.Request().Context()
	e.User, e.Addr = ui.ViewerFrom(ctx).User, c.RealIP()
	finish, err := log.Begin(ctx, e)
	if err != nil {
		return err
	}
	err = fn()
	finish(err)
	return err
}

// SafeNext is where to go after logging in: a path on this site, else /.
// Browsers read a backslash as a slash and drop tabs and newlines from
// URLs, so /\evil.example, or a tab between two slashes, would leave the
// site as //evil.example does: a next with either is refused.
func SafeNext(next string) string {
	bad := func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsFunc(next, bad) {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}
