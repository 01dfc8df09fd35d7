package alerts

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/gpu-watchdog/gpu-watchdog/internal/audit"
	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

// Actions change alerting's state. Only logged-in admins reach them, and
// each lands in the audit log first. Mistakes in what was typed come back
// as ui.InputError.
type Actions interface {
	// AddSilence silences alerts matching every matcher (name="value",
	// name=~"regex", name!="v", or a bare alert name first) for d.
	AddSilence(ctx context.Context, matchers []string, d time.Duration, author, comment string) (id string, err error)
	ExpireSilence(ctx context.Context, id string) error
	// Reload re-reads the rule files and the Alertmanager configuration,
	// as SIGHUP does; on error nothing changed.
	Reload(ctx context.Context) error
}

// notices are the messages a redirect after an action may show, by key:
// only these, so a link cannot make the page say anything else.
var notices = map[string]string{
	"silence-created": "Silence created.",
	"silence-expired": "Silence expired.",
	"reloaded":        "Configuration, rule files and routing reloaded.",
	"rule-saved":      "Rule saved; it is evaluated from the next round.",
	"rule-deleted":    "Rule deleted.",
}

func (p *Page) registerActions(e *echo.Echo) {
	e.GET("/alerts/silences/new", p.silenceForm, auth.RequireAdmin)
	e.POST("/alerts/silences", p.addSilence, auth.RequireAdmin)
	e.POST("/alerts/silences/:id/expire", p.expireSilence, auth.RequireAdmin)
	e.POST("/alerts/reload", p.reload, auth.RequireAdmin)
}

func (p *Page) head(title string) ui.Head {
	return ui.Head{Title: title, Path: "/alerts", Version: p.Version}
}

// silenceForm is the form to silence alerts, filled from ?matcher= (the
// labels of the alert whose "Silence" button led here).
func (p *Page) silenceForm(c echo.Context) error {
	f := silenceForm{Matchers: strings.Join(c.QueryParams()["matcher"], "\n"), Duration: "2h"}
	return ui.Render(c, http.StatusOK, silencePage(p.head("New silence"), f))
}

func (p *Page) addSilence(c echo.Context) error {
	f := silenceForm{Matchers: c.FormValue("matchers"), Duration: c.FormValue("duration"), Comment: strings.TrimSpace(c.FormValue("comment"))}
	ms := slices.DeleteFunc(strings.Split(f.Matchers, "\n"), func(s string) bool { return strings.TrimSpace(s) == "" })
	for i := range ms {
		ms[i] = strings.TrimSpace(ms[i])
	}
	d, err := time.ParseDuration(f.Duration)
	switch {
	case len(ms) == 0:
		err = errors.New("give at least one matcher, e.g. alertname=\"GPUOverheating\"")
	case err != nil || d <= 0:
		err = fmt.Errorf("duration %q: use hours and minutes, e.g. 2h or 90m", f.Duration)
	case f.Comment == "":
		err = errors.New("say why, for whoever finds the silence later")
	}
	if err != nil {
		f.Err = err.Error()
		return ui.Render(c, http.StatusBadRequest, silencePage(p.head("New silence"), f))
	}
	var id string
	err = auth.Act(c, p.Audit, audit.Entry{Action: "silence.create", Detail: strings.Join(ms, " ") + " for " + d.String() + ": " + f.Comment}, func() error {
		var err error
		id, err = p.Actions.AddSilence(c.Request().Context(), ms, d, ui.ViewerFrom(c.Request().Context()).User, f.Comment)
		return err
	})
	if ie := (*ui.InputError)(nil); errors.As(err, &ie) {
		f.Err = ie.Error()
		return ui.Render(c, http.StatusBadRequest, silencePage(p.head("New silence"), f))
	}
	if err != nil {
		return err
	}
	return done(c, "silence-created", "silence", id)
}

func (p *Page) expireSilence(c echo.Context) error {
	id := c.Param("id")
	err := auth.Act(c, p.Audit, audit.Entry{Action: "silence.expire", Target: id}, func() error {
		return p.Actions.ExpireSilence(c.Request().Context(), id)
	})
	if ie := (*ui.InputError)(nil); errors.As(err, &ie) {
		return echo.NewHTTPError(http.StatusBadRequest, ie.Error())
	}
	if err != nil {
		return err
	}
	return done(c, "silence-expired", "silence", id)
}

func (p *Page) reload(c echo.Context) error {
	err := auth.Act(c, p.Audit, audit.Entry{Action: "alerting.reload"}, func() error {
		return p.Actions.Reload(c.Request().Context())
	})
	if err != nil {
		// A refused reload is news for the page, not a crash: the running
		// configuration stays.
		return ui.Render(c, http.StatusUnprocessableEntity, p.render(c, view{Failure: "Reload refused; the running rules and routing stay: " + err.Error()}))
	}
	return done(c, "reloaded", "", "")
}

// done redirects to the Alerts page with a notice (303: the browser GETs
// it, so a refresh does not repeat the action).
func done(c echo.Context, notice, key, value string) error {
	q := url.Values{"done": {notice}}
	if key != "" {
		q.Set(key, value)
	}
	return c.Redirect(http.StatusSeeOther, "/alerts?"+q.Encode())
}

type silenceForm struct {
	Matchers, Duration, Comment, Err string
}

// silenceLink is the form's URL filled with an alert's labels.
func silenceLink(labels map[string]string) templ.SafeURL {
	q := url.Values{}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		q.Add("matcher", fmt.Sprintf("%s=%q", k, labels[k]))
	}
	return templ.SafeURL("/alerts/silences/new?" + q.Encode())
}
