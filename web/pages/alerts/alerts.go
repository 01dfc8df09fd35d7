package alerts

import (
	"context"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

// Alert is one pending or firing alert.
type Alert struct {
	Name, State, Severity string
	Labels                map[string]string
	Summary               string
	ActiveAt              time.Time
	Value                 float64
}

// Rule is one rule and how its last evaluation went.
type Rule struct {
	Group, File, Name string
	Alerting          bool
	// Editable rules were made in the dashboard; the others come from
	// rule files and are read-only here.
	Editable       bool
	Version        int64 // of an editable rule
	Query          string
	For            time.Duration
	State          string // inactive, pending, firing (alerting rules)
	Health         string // ok, err, unknown
	LastError      string
	LastEvaluation time.Time
	EvaluationTime time.Duration
}

// Silence is one silence.
type Silence struct {
	ID, Matchers, CreatedBy, Comment, State string
	StartsAt, EndsAt                        time.Time
}

// Notification is one message and how its deliveries went.
type Notification struct {
	ID         int64
	Receiver   string
	Title      string
	CreatedAt  time.Time
	Deliveries []Delivery
}

// Delivery is one endpoint's part of a notification.
type Delivery struct {
	Integration, Status, LastError string
	Attempts                       int
}

// Source is where the page reads alerting's state.
type Source interface {
	Alerts() []Alert
	Rules() []Rule
	Silences() []Silence
	Notifications(ctx context.Context, limit int) ([]Notification, error)
}

// Page serves /alerts and, with Actions, what admins do there.
type Page struct {
	Source Source
	// Actions and Audit: nil makes the page read-only.
	Actions Actions
	Rules   Rules
	Audit   auth.Auditor
	Version string
}

// Register adds the page's routes.
func (p *Page) Register(e *echo.Echo) {
	e.GET("/alerts", p.serve)
	if p.Actions != nil && p.Audit != nil {
		p.registerActions(e)
	}
	if p.Rules != nil && p.Audit != nil {
		p.registerRules(e)
	}
}

func (p *Page) serve(c echo.Context) error {
	return ui.Render(c, http.StatusOK, p.render(c, view{Notice: notices[c.QueryParam("done")]}))
}

// render fills v with alerting's state: the page around a notice or a
// failure.
func (p *Page) render(c echo.Context, v view) templ.Component {
	v.Alerts, v.Rules, v.Silences, v.Rule = p.Source.Alerts(), p.Source.Rules(), p.Source.Silences(), c.QueryParam("rule")
	v.Notifications, v.NotifyErr = p.Source.Notifications(c.Request().Context(), 50)
	admin := ui.Admin(c.Request().Context())
	v.CanAct = p.Actions != nil && admin
	v.CanEditRules = p.Rules != nil && p.Audit != nil && admin
	v.CanExport = p.Rules != nil && p.Audit != nil
	for _, a := range v.Alerts {
		if a.State == "firing" {
			v.Firing++
		} else {
			v.Pending++
		}
	}
	return page(p.head("Alerts"), v)
}

type view struct {
	Alerts          []Alert
	Firing, Pending int
	Rules           []Rule
	Silences        []Silence
	Notifications   []Notification
	NotifyErr       error
	Rule            string // ?rule=NAME (the alerts' generator links): that rule stands out
	// CanAct shows the admin's buttons; CanEditRules the rule editor's;
	// CanExport the link to the dashboard rules' file.
	CanAct, CanEditRules, CanExport bool
	// Notice says an action went through; Failure that one did not.
	Notice, Failure string
}
