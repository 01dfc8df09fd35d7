package alerts

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

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
	Query             string
	For               time.Duration
	State             string // inactive, pending, firing (alerting rules)
	Health            string // ok, err, unknown
	LastError         string
	LastEvaluation    time.Time
	EvaluationTime    time.Duration
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

// Page serves /alerts.
type Page struct {
	Source  Source
	Version string
}

// Register adds the page's route.
func (p *Page) Register(e *echo.Echo) { e.GET("/alerts", p.serve) }

func (p *Page) serve(c echo.Context) error {
	v := view{Alerts: p.Source.Alerts(), Rules: p.Source.Rules(), Silences: p.Source.Silences(), Rule: c.QueryParam("rule")}
	v.Notifications, v.NotifyErr = p.Source.Notifications(c.Request().Context(), 50)
	for _, a := range v.Alerts {
		if a.State == "firing" {
			v.Firing++
		} else {
			v.Pending++
		}
	}
	return ui.Render(c, http.StatusOK, page(ui.Head{Title: "Alerts", Path: "/alerts", Version: p.Version}, v))
}

type view struct {
	Alerts          []Alert
	Firing, Pending int
	Rules           []Rule
	Silences        []Silence
	Notifications   []Notification
	NotifyErr       error
	Rule            string // ?rule=NAME (the alerts' generator links): that rule stands out
}
