package login

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gpu-watchdog/gpu-watchdog/internal/audit"
	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

// Sessions opens and ends logins.
type Sessions interface {
	Login(ctx context.Context, user, password, addr string) (string, *http.Cookie, error)
	Logout(ctx context.Context, r *http.Request) (*http.Cookie, error)
}

// Recorder writes finished entries to the audit log.
type Recorder interface {
	Record(ctx context.Context, e audit.Entry) error
}

// Page serves /login and /logout.
type Page struct {
	Sessions Sessions
	Audit    Recorder
	Version  string
}

// Register adds the routes.
func (p *Page) Register(e *echo.Echo) {
	e.GET("/login", p.form)
	e.POST("/login", p.login)
	e.POST("/logout", p.logout)
}

func (p *Page) head() ui.Head { return ui.Head{Title: "Log in", Path: "/login", Version: p.Version} }

func (p *Page) form(c echo.Context) error {
	next := auth.SafeNext(c.QueryParam("next"))
	if ui.Admin(c.Request().Context()) {
		return c.Redirect(http.StatusSeeOther, next)
	}
	return ui.Render(c, http.StatusOK, page(p.head(), view{Next: next}))
}

func (p *Page) login(c echo.Context) error {
	ctx := c.Request().Context()
	user, password := c.FormValue("username"), c.FormValue("password")
	next := auth.SafeNext(c.FormValue("next"))
	name, cookie, err := p.Sessions.Login(ctx, user, password, c.RealIP())
	entry := audit.Entry{User: name, Addr: c.RealIP(), Action: "login", Result: audit.OK}
	if err != nil {
		entry.User, entry.Result = auditName(user), err.Error()
		if user == "" {
			entry.User = auth.TokenUser
		}
	}
	if aerr := p.Audit.Record(ctx, entry); aerr != nil && err == nil {
		// No session without its record.
		_, _ = p.Sessions.Logout(ctx, withCookie(c.Request(), cookie))
		return aerr
	}
	if err != nil {
		status := http.StatusUnauthorized
		if errors.Is(err, auth.ErrTooManyAttempts) {
			status = http.StatusTooManyRequests
			c.Response().Header().Set("Retry-After", auth.RetryAfter(err))
		} else if !errors.Is(err, auth.ErrBadLogin) {
			return err
		}
		return ui.Render(c, status, page(p.head(), view{Next: next, User: user, Error: err.Error()}))
	}
	c.SetCookie(cookie)
	return c.Redirect(http.StatusSeeOther, next)
}

func (p *Page) logout(c echo.Context) error {
	ctx := c.Request().Context()
	user := ui.ViewerFrom(ctx).User
	cookie, err := p.Sessions.Logout(ctx, c.Request())
	if err != nil {
		return err
	}
	if user != "" {
		_ = p.Audit.Record(ctx, audit.Entry{User: user, Addr: c.RealIP(), Action: "logout", Result: audit.OK})
	}
	c.SetCookie(cookie)
	return c.Redirect(http.StatusSeeOther, "/")
}

// withCookie is r carrying the session cookie just made, to end it.
func withCookie(r *http.Request, c *http.Cookie) *http.Request {
	r = r.Clone(r.Context())
	r.Header.Del("Cookie")
	r.AddCookie(c)
	return r
}

type view struct {
	Next, User, Error string
}

// auditName is a name typed into the form as the audit log keeps it: at
// most 64 bytes, whatever was typed (a password in the wrong field, say).
func auditName(s string) string {
	if len(s) <= 64 {
		return s
	}
	return strings.ToValidUTF8(s[:64], "") + "…"
}
