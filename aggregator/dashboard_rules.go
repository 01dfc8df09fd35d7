package aggregator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/userrules"
	alertspage "github.com/gpu-watchdog/gpu-watchdog/web/pages/alerts"
)

// dashRules is the Alerts page's rule editor over the dashboard rules'
// store and the rule manager.
type dashRules struct{ a *alerting }

func (d dashRules) Get(ctx context.Context, name string) (alertspage.RuleDraft, error) {
	r, err := d.a.userRules.Get(ctx, name)
	if errors.Is(err, userrules.ErrNotFound) {
		return alertspage.RuleDraft{}, fmt.Errorf("%w: %s", alertspage.ErrRuleNotFound, name)
	}
	if err != nil {
		return alertspage.RuleDraft{}, err
	}
	return alertspage.RuleDraft{Name: r.Name, Expr: r.Expr, For: r.For, KeepFiringFor: r.KeepFiringFor,
		Labels: r.Labels, Annotations: r.Annotations, Version: r.Version}, nil
}

func toUserRule(d alertspage.RuleDraft) userrules.Rule {
	return userrules.Rule{Name: d.Name, Expr: d.Expr, For: d.For, KeepFiringFor: d.KeepFiringFor,
		Labels: d.Labels, Annotations: d.Annotations, Version: d.Version}
}

// check splits Validate's answer into the page's problems and warnings;
// an error that is not a validation error is returned as is.
func check(warnings []userrules.Problem, err error) (alertspage.RuleCheck, error) {
	var c alertspage.RuleCheck
	for _, w := range warnings {
		c.Warnings = append(c.Warnings, alertspage.Problem{Field: w.Field, Message: w.Message})
	}
	var ve *userrules.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			c.Problems = append(c.Problems, alertspage.Problem{Field: p.Field, Message: p.Message})
		}
		return c, nil
	}
	return c, err
}

// Test validates d against the other dashboard rules, then evaluates it
// once on current data, as the manager would, without saving it.
func (d dashRules) Test(ctx context.Context, draft alertspage.RuleDraft, oldName string) (alertspage.RuleCheck, error) {
	others, err := d.a.userRules.List(ctx)
	if err != nil {
		return alertspage.RuleCheck{}, err
	}
	others = slices.DeleteFunc(others, func(r userrules.Rule) bool { return r.Name == oldName })
	r := toUserRule(draft)
	c, err := check(userrules.Validate(r, others))
	if err != nil || len(c.Problems) > 0 {
		return c, err
	}
	content, err := userrules.Marshal([]userrules.Rule{r})
	if err != nil {
		return c, err
	}
	previews, err := d.a.rules.Preview(ctx, userrules.File, content, time.Now())
	if err != nil {
		return c, err
	}
	c.Tested = true
	for _, p := range previews {
		if p.Err != nil {
			c.EvalErr = p.Err.Error()
			continue
		}
		for _, al := range p.Alerts {
			c.Fires = append(c.Fires, alertspage.Firing{Labels: al.Labels.Map(), Value: al.Value, State: al.State.String()})
		}
	}
	return c, nil
}

// Save stores the rule and has the manager evaluate it from its next round.
func (d dashRules) Save(ctx context.Context, draft alertspage.RuleDraft, oldName, by string) (alertspage.RuleCheck, error) {
	_, warnings, err := d.a.userRules.Save(ctx, toUserRule(draft), oldName, by)
	c, err := check(warnings, err)
	if err != nil || len(c.Problems) > 0 {
		return c, pageError(err)
	}
	if err := d.a.rules.Reload(ctx); err != nil {
		return c, fmt.Errorf("the rule is saved but not evaluated yet: %w", err)
	}
	return c, nil
}

func (d dashRules) Delete(ctx context.Context, name string, version int64, by string) error {
	if err := d.a.userRules.Delete(ctx, name, version, by); err != nil {
		return pageError(err)
	}
	if err := d.a.rules.Reload(ctx); err != nil {
		return fmt.Errorf("the rule is deleted but still evaluated until the next reload: %w", err)
	}
	return nil
}

func (d dashRules) Export(ctx context.Context) ([]byte, error) { return d.a.userRules.Content(ctx) }

// pageError maps the store's not-found and conflict to the page's.
func pageError(err error) error {
	switch {
	case errors.Is(err, userrules.ErrNotFound):
		return fmt.Errorf("%w (%v)", alertspage.ErrRuleNotFound, err)
	case errors.Is(err, userrules.ErrConflict):
		return alertspage.ErrRuleConflict
	}
	return err
}
