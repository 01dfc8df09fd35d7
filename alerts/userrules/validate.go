package userrules

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
)

// The fields a Problem names, as a rule file spells them.
const (
	FieldName          = "name"
	FieldExpr          = "expr"
	FieldFor           = "for"
	FieldKeepFiringFor = "keep_firing_for"
	FieldLabels        = "labels"
	FieldAnnotations   = "annotations"
)

// MaxNameLen is the longest alert name accepted.
const MaxNameLen = 200

// Problem is one thing wrong with a rule, in words for the person editing
// it.
type Problem struct {
	Field   string // one of the Field constants; "" for the rule as a whole
	Message string
}

// ValidationError lists what stops a rule from being saved.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Message
	}
	return "invalid rule: " + strings.Join(msgs, "; ")
}

// Messages returns the messages about one field.
func (e *ValidationError) Messages(field string) []string {
	var out []string
	for _, p := range e.Problems {
		if p.Field == field {
			out = append(out, p.Message)
		}
	}
	return out
}

// Validate checks r as `gpuwd rules check` checks the rule file it would
// be part of (rules.CheckContent), first field by field so that each
// problem names its field in plain words, and with a few checks of its own:
// a name unique among others (the other dashboard rules) and safe in URLs
// and selectors, labels that routing can match, and an expression that
// gives what an alert needs. A failure is a *ValidationError; warnings
// (rules that parse but misbehave) are returned either way and do not
// block saving.
func Validate(r Rule, others []Rule) (warnings []Problem, err error) {
	var errs []Problem
	add := func(field, format string, args ...any) {
		errs = append(errs, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case r.Name == "":
		add(FieldName, "name must not be empty")
	case len(r.Name) > MaxNameLen:
		add(FieldName, "name must be at most %d characters long", MaxNameLen)
	case !model.LegacyValidation.IsValidMetricName(r.Name):
		add(FieldName, "name %q may contain only letters (a–z, A–Z), digits, underscores and colons, and must not start with a digit", r.Name)
	case slices.ContainsFunc(others, func(o Rule) bool { return o.Name == r.Name }):
		add(FieldName, "another dashboard rule is already named %q", r.Name)
	}
	if msg := checkExpr(r.Expr); msg != "" {
		add(FieldExpr, "%s", msg)
	}
	for _, d := range []struct {
		field, what string
		v           time.Duration
	}{{FieldFor, `"for"`, r.For}, {FieldKeepFiringFor, `"keep firing for"`, r.KeepFiringFor}} {
		switch {
		case d.v < 0:
			add(d.field, "%s must not be negative", d.what)
		case d.v%time.Millisecond != 0:
			add(d.field, "%s must be a whole number of milliseconds", d.what)
		}
	}
	for _, m := range []struct {
		field, what string
		kv          map[string]string
	}{{FieldLabels, "label", r.Labels}, {FieldAnnotations, "annotation", r.Annotations}} {
		for _, k := range slices.Sorted(maps.Keys(m.kv)) {
			if msg := checkKey(m.what, k); msg != "" {
				add(m.field, "%s", msg)
			}
			if msg := checkValue(m.what, k, m.kv[k]); msg != "" {
				add(m.field, "%s", msg)
			}
		}
	}
	if content, err := Marshal([]Rule{r}); err == nil {
		// Rule files have no checks across rules but duplicates, which a
		// unique name excludes: checking r alone is checking the group.
		res := rules.CheckContent(File, content)
		if len(errs) == 0 {
			for _, e := range res.Errors {
				add("", "the rule file would be rejected: %s", checkPrefix.ReplaceAllString(e.Error(), ""))
			}
		}
		for _, w := range res.Warnings {
			msg := checkPrefix.ReplaceAllString(w, "")
			field := ""
			if strings.HasPrefix(msg, "label ") {
				field = FieldLabels
			}
			warnings = append(warnings, Problem{Field: field, Message: msg})
		}
	} else if len(errs) == 0 {
		add("", "%s", err)
	}
	if len(errs) > 0 {
		return warnings, &ValidationError{Problems: errs}
	}
	return warnings, nil
}

// checkPrefix is where rules.CheckContent's messages say which file,
// position, group and rule: always the one rule checked.
var checkPrefix = regexp.MustCompile(`^(?:` + File + `: )?(?:\d+:\d+: )*group "(?:[^"\\]|\\.)*", rule (?:\d+, )?"(?:[^"\\]|\\.)*": `)

// checkExpr says what is wrong with an alerting rule's expression.
func checkExpr(expr string) string {
	if strings.TrimSpace(expr) == "" {
		return "expression must not be empty"
	}
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return "expression is not valid PromQL: " + parseMessage(err)
	}
	switch e.Type() {
	case parser.ValueTypeMatrix:
		return "expression gives a range vector, but an alert needs an instant vector: wrap it in a function such as rate() or max_over_time()"
	case parser.ValueTypeString:
		return "expression gives a string, but an alert needs an instant vector"
	}
	return ""
}

// parseMessage is a PromQL parse error as "at line L, column C: what".
func parseMessage(err error) string {
	var pes parser.ParseErrors
	if !errors.As(err, &pes) || len(pes) == 0 {
		return err.Error()
	}
	pe := pes[0]
	pos := pe.PositionRange.StartPosInput(pe.Query, 0)
	if line, col, ok := strings.Cut(pos, ":"); ok {
		return fmt.Sprintf("at line %s, column %s: %s", line, col, pe.Err)
	}
	return pe.Err.Error()
}

// checkKey says what is wrong with a label's or an annotation's name.
func checkKey(what, k string) string {
	switch {
	case k == "":
		return fmt.Sprintf("a %s has no name", what)
	case !model.LegacyValidation.IsValidLabelName(k):
		return fmt.Sprintf("%s name %q may contain only letters (a–z, A–Z), digits and underscores, and must not start with a digit", what, k)
	case strings.HasPrefix(k, "__"):
		return fmt.Sprintf("%s name %q is reserved: names starting with two underscores are for internal use", what, k)
	case what == "label" && k == labels.AlertName:
		return `label "alertname" cannot be set: it is always the rule's name`
	}
	return ""
}

// checkValue says what is wrong with a label's or an annotation's value,
// a template.
func checkValue(what, k, v string) string {
	if !utf8.ValidString(v) {
		return fmt.Sprintf("%s %q has a value that is not valid UTF-8", what, k)
	}
	if !strings.Contains(v, "{{") {
		return ""
	}
	if err := parseTemplate(v); err != nil {
		return fmt.Sprintf("%s %q is not a valid template: %s", what, k, err)
	}
	return ""
}

// templateDefs are the variables Prometheus defines for alert templates.
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// templateName is the name parse errors start with.
var templateName = regexp.MustCompile(`^template: __alert:(\d+): `)

// parseTemplate parses text as rulefmt does, and says where it fails as
// "line N: what".
func parseTemplate(text string) error {
	data := template.AlertTemplateData(map[string]string{}, map[string]string{}, "", promql.Sample{})
	t := template.NewTemplateExpander(context.Background(), templateDefs+text, "__alert", data, 0, nil, nil, nil)
	err := t.ParseTest()
	if err == nil {
		return nil
	}
	return errors.New(templateName.ReplaceAllString(err.Error(), "line $1: "))
}
