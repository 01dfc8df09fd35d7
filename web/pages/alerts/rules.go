package alerts

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/internal/audit"
	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

// RuleDraft is an alerting rule as the editor holds it.
type RuleDraft struct {
	Name, Expr          string
	For, KeepFiringFor  time.Duration
	Labels, Annotations map[string]string
	// Version is the stored version the edit started from: saving over a
	// newer one is a conflict.
	Version int64
}

// Problem is something wrong with a draft; Field is the form field it
// belongs to (name, expr, for, keep_firing_for, labels, annotations), ""
// for the rule as a whole.
type Problem struct{ Field, Message string }

// Firing is one alert a tested rule would raise now.
type Firing struct {
	Labels map[string]string
	Value  float64
	State  string // pending (it has a `for`) or firing
}

// RuleCheck is what the checker said of a draft and, for a test, what it
// would raise now.
type RuleCheck struct {
	Problems, Warnings []Problem
	Tested             bool
	Fires              []Firing
	EvalErr            string // the expression failed on current data
}

// Errors of Rules, for the page to answer 404 and 409.
var (
	ErrRuleNotFound = errors.New("no such dashboard rule")
	ErrRuleConflict = errors.New("the rule was changed by someone else since you opened it: open it again to see their change")
)

// Rules are the rules made in the dashboard: stored durably, checked as
// `gpuwd rules check` does; rules from files are not here.
type Rules interface {
	Get(ctx context.Context, name string) (RuleDraft, error)
	// Test checks d and evaluates it on current data without saving.
	Test(ctx context.Context, d RuleDraft, oldName string) (RuleCheck, error)
	// Save stores d (creating it when oldName is "") and has it evaluated;
	// a check with problems saved nothing.
	Save(ctx context.Context, d RuleDraft, oldName, by string) (RuleCheck, error)
	Delete(ctx context.Context, name string, version int64, by string) error
	// Export is every dashboard rule as a Prometheus rule file.
	Export(ctx context.Context) ([]byte, error)
}

func (p *Page) registerRules(e *echo.Echo) {
	e.GET("/alerts/rules/export", p.exportRules)
	e.GET("/alerts/rules/new", p.newRule, auth.RequireAdmin)
	e.GET("/alerts/rules/:name/edit", p.editRule, auth.RequireAdmin)
	e.POST("/alerts/rules", p.saveRule, auth.RequireAdmin)
	e.POST("/alerts/rules/:name/delete", p.deleteRule, auth.RequireAdmin)
}

// ruleForm is the editor's fields as typed.
type ruleForm struct {
	OldName, Name, Expr, For, KeepFiringFor, Labels, Annotations string
	Version                                                      int64
	Check                                                        RuleCheck
	Err                                                          string
}

func (f ruleForm) problems(field string) []string {
	var out []string
	for _, p := range f.Check.Problems {
		if p.Field == field {
			out = append(out, p.Message)
		}
	}
	return out
}

func (p *Page) newRule(c echo.Context) error {
	f := ruleForm{Annotations: "summary: \ndescription: ", Labels: "severity: warning", For: "5m"}
	return ui.Render(c, http.StatusOK, rulePage(p.head("New rule"), f))
}

func (p *Page) editRule(c echo.Context) error {
	d, err := p.Rules.Get(c.Request().Context(), c.Param("name"))
	if errors.Is(err, ErrRuleNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, err.Error())
	}
	if err != nil {
		return err
	}
	f := ruleForm{OldName: d.Name, Name: d.Name, Expr: d.Expr, For: durationText(d.For), KeepFiringFor: durationText(d.KeepFiringFor),
		Labels: pairsText(d.Labels), Annotations: pairsText(d.Annotations), Version: d.Version}
	return ui.Render(c, http.StatusOK, rulePage(p.head("Edit rule "+d.Name), f))
}

// saveRule tests (action=test) or saves the draft in the form.
func (p *Page) saveRule(c echo.Context) error {
	f := ruleForm{OldName: c.FormValue("old_name"), Name: strings.TrimSpace(c.FormValue("name")), Expr: c.FormValue("expr"),
		For: strings.TrimSpace(c.FormValue("for")), KeepFiringFor: strings.TrimSpace(c.FormValue("keep_firing_for")),
		Labels: c.FormValue("labels"), Annotations: c.FormValue("annotations")}
	f.Version, _ = strconv.ParseInt(c.FormValue("version"), 10, 64)
	title := "New rule"
	if f.OldName != "" {
		title = "Edit rule " + f.OldName
	}
	d, problems := f.draft()
	if len(problems) > 0 {
		f.Check.Problems = problems
		return ui.Render(c, http.StatusUnprocessableEntity, rulePage(p.head(title), f))
	}
	ctx := c.Request().Context()
	if c.FormValue("action") == "test" {
		check, err := p.Rules.Test(ctx, d, f.OldName)
		if err != nil {
			return err
		}
		f.Check = check
		return ui.Render(c, http.StatusOK, rulePage(p.head(title), f))
	}
	action := "rule.create"
	if f.OldName != "" {
		action = "rule.update"
	}
	var check RuleCheck
	err := auth.Act(c, p.Audit, audit.Entry{Action: action, Target: d.Name, Detail: ruleDetail(d, f.OldName)}, func() error {
		var err error
		check, err = p.Rules.Save(ctx, d, f.OldName, ui.ViewerFrom(ctx).User)
		if err == nil && len(check.Problems) > 0 {
			err = errors.New(check.Problems[0].Message)
		}
		return err
	})
	f.Check = check
	switch {
	case len(check.Problems) > 0:
		return ui.Render(c, http.StatusUnprocessableEntity, rulePage(p.head(title), f))
	case errors.Is(err, ErrRuleConflict), errors.Is(err, ErrRuleNotFound):
		f.Err = err.Error()
		return ui.Render(c, http.StatusConflict, rulePage(p.head(title), f))
	case err != nil:
		return err
	}
	return done(c, "rule-saved", "rule", d.Name)
}

func (p *Page) deleteRule(c echo.Context) error {
	name := c.Param("name")
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	ctx := c.Request().Context()
	err := auth.Act(c, p.Audit, audit.Entry{Action: "rule.delete", Target: name}, func() error {
		return p.Rules.Delete(ctx, name, version, ui.ViewerFrom(ctx).User)
	})
	switch {
	case errors.Is(err, ErrRuleNotFound):
		return echo.NewHTTPError(http.StatusNotFound, err.Error())
	case errors.Is(err, ErrRuleConflict):
		return echo.NewHTTPError(http.StatusConflict, err.Error())
	case err != nil:
		return err
	}
	return done(c, "rule-deleted", "", "")
}

func (p *Page) exportRules(c echo.Context) error {
	b, err := p.Rules.Export(c.Request().Context())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="gpuwd-dashboard-rules.yml"`)
	return c.Blob(http.StatusOK, "application/yaml; charset=utf-8", b)
}

// draft parses the form; problems are typing mistakes the checker never
// sees (a duration or a line it cannot read).
func (f ruleForm) draft() (RuleDraft, []Problem) {
	d := RuleDraft{Name: f.Name, Expr: strings.TrimSpace(f.Expr), Version: f.Version}
	var problems []Problem
	var err error
	if d.For, err = parseDuration(f.For); err != nil {
		problems = append(problems, Problem{"for", err.Error()})
	}
	if d.KeepFiringFor, err = parseDuration(f.KeepFiringFor); err != nil {
		problems = append(problems, Problem{"keep_firing_for", err.Error()})
	}
	if d.Labels, err = parsePairs(f.Labels); err != nil {
		problems = append(problems, Problem{"labels", err.Error()})
	}
	if d.Annotations, err = parsePairs(f.Annotations); err != nil {
		problems = append(problems, Problem{"annotations", err.Error()})
	}
	return d, problems
}

func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: use e.g. 30s, 5m, 1h30m", s)
	}
	return time.Duration(d), nil
}

// parsePairs reads "name: value" lines; empty values and blank lines are
// dropped (the new-rule form offers empty summary and description).
func parsePairs(s string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d %q: write name: value", i+1, line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("line %d: %q is given twice", i+1, k)
		}
		if v != "" {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func pairsText(m map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%s: %s\n", k, m[k])
	}
	return b.String()
}

func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return model.Duration(d).String()
}

// ruleDetail is the rule in one line, for the audit log.
func ruleDetail(d RuleDraft, oldName string) string {
	s := d.Expr
	if d.For > 0 {
		s += " for " + durationText(d.For)
	}
	if oldName != "" && oldName != d.Name {
		s = "renamed from " + oldName + ": " + s
	}
	return s
}
