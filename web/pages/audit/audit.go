package audit

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gpu-watchdog/gpu-watchdog/internal/audit"
	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

// Source lists the audit log.
type Source interface {
	List(ctx context.Context, f audit.Filter) ([]audit.Entry, error)
}

// Page serves /audit.
type Page struct {
	Source  Source
	Version string
}

// Register adds the route, for admins only.
func (p *Page) Register(e *echo.Echo) { e.GET("/audit", p.serve, auth.RequireAdmin) }

func (p *Page) serve(c echo.Context) error {
	f := audit.Filter{User: c.QueryParam("user"), Action: c.QueryParam("action"), Limit: 200}
	entries, err := p.Source.List(c.Request().Context(), f)
	return ui.Render(c, http.StatusOK, page(ui.Head{Title: "Audit log", Path: "/audit", Version: p.Version}, view{Filter: f, Entries: entries, Err: err}))
}

type view struct {
	Filter  audit.Filter
	Entries []audit.Entry
	Err     error
}
