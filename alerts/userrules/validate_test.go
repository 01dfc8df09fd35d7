package userrules

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// hot is a valid rule that the cases change one thing of.
func hot() Rule {
	return Rule{
		Name:          "GPUHot",
		Expr:          "DCGM_FI_DEV_GPU_TEMP > 85",
		For:           5 * time.Minute,
		KeepFiringFor: time.Minute,
		Labels:        map[string]string{"severity": "critical"},
		Annotations:   map[string]string{"summary": "GPU {{ $labels.gpu }} on {{ $labels.instance }} at {{ $value | printf \"%.0f\" }} °C"},
	}
}

func TestValidate(t *testing.T) {
	others := []Rule{{Name: "NodeDown", Expr: "up == 0"}}
	cases := []struct {
		name     string
		edit     func(r *Rule)
		errs     []Problem
		warnings []Problem
	}{
		{name: "valid", edit: func(*Rule) {}},
		{name: "scalar expression", edit: func(r *Rule) { r.Expr = "1" }},
		{name: "no labels or annotations", edit: func(r *Rule) { r.Labels, r.Annotations = nil, nil }},
		{name: "empty label value", edit: func(r *Rule) { r.Labels["team"] = "" }},
		{name: "colon in name", edit: func(r *Rule) { r.Name = "gpu:hot" }},
		{name: "empty name", edit: func(r *Rule) { r.Name = "" },
			errs: []Problem{{FieldName, "name must not be empty"}}},
		{name: "space in name", edit: func(r *Rule) { r.Name = "GPU Hot" },
			errs: []Problem{{FieldName, `name "GPU Hot" may contain only letters (a–z, A–Z), digits, underscores and colons, and must not start with a digit`}}},
		{name: "name starts with a digit", edit: func(r *Rule) { r.Name = "1GPUHot" },
			errs: []Problem{{FieldName, `name "1GPUHot" may contain only letters (a–z, A–Z), digits, underscores and colons, and must not start with a digit`}}},
		{name: "long name", edit: func(r *Rule) { r.Name = strings.Repeat("A", 201) },
			errs: []Problem{{FieldName, "name must be at most 200 characters long"}}},
		{name: "duplicate name", edit: func(r *Rule) { r.Name = "NodeDown" },
			errs: []Problem{{FieldName, `another dashboard rule is already named "NodeDown"`}}},
		{name: "empty expr", edit: func(r *Rule) { r.Expr = " \n" },
			errs: []Problem{{FieldExpr, "expression must not be empty"}}},
		{name: "bad expr", edit: func(r *Rule) { r.Expr = "rate(DCGM_FI_DEV_XID_ERRORS[5m]" },
			errs: []Problem{{FieldExpr, "expression is not valid PromQL: at line 1, column 32: unclosed left parenthesis"}}},
		{name: "bad expr on line 2", edit: func(r *Rule) { r.Expr = "sum by (instance) (\n  foo bar)" },
			errs: []Problem{{FieldExpr, `expression is not valid PromQL: at line 2, column 7: unexpected identifier "bar" in aggregation`}}},
		{name: "range vector", edit: func(r *Rule) { r.Expr = "DCGM_FI_DEV_GPU_TEMP[5m]" },
			errs: []Problem{{FieldExpr, "expression gives a range vector, but an alert needs an instant vector: wrap it in a function such as rate() or max_over_time()"}}},
		{name: "string", edit: func(r *Rule) { r.Expr = `"hot"` },
			errs: []Problem{{FieldExpr, "expression gives a string, but an alert needs an instant vector"}}},
		{name: "negative for", edit: func(r *Rule) { r.For = -time.Minute },
			errs: []Problem{{FieldFor, `"for" must not be negative`}}},
		{name: "negative keep firing for", edit: func(r *Rule) { r.KeepFiringFor = -time.Second },
			errs: []Problem{{FieldKeepFiringFor, `"keep firing for" must not be negative`}}},
		{name: "sub-millisecond for", edit: func(r *Rule) { r.For = time.Second + time.Microsecond },
			errs: []Problem{{FieldFor, `"for" must be a whole number of milliseconds`}}},
		{name: "label without name", edit: func(r *Rule) { r.Labels[""] = "x" },
			errs: []Problem{{FieldLabels, "a label has no name"}}},
		{name: "invalid label name", edit: func(r *Rule) { r.Labels["on-call"] = "gpu-team" },
			errs: []Problem{{FieldLabels, `label name "on-call" may contain only letters (a–z, A–Z), digits and underscores, and must not start with a digit`}}},
		{name: "reserved label name", edit: func(r *Rule) { r.Labels["__name__"] = "x" },
			errs: []Problem{{FieldLabels, `label name "__name__" is reserved: names starting with two underscores are for internal use`}}},
		{name: "alertname label", edit: func(r *Rule) { r.Labels["alertname"] = "Other" },
			errs: []Problem{{FieldLabels, `label "alertname" cannot be set: it is always the rule's name`}}},
		{name: "label value not UTF-8", edit: func(r *Rule) { r.Labels["team"] = "gpu\xff" },
			errs: []Problem{{FieldLabels, `label "team" has a value that is not valid UTF-8`}}},
		{name: "bad label template", edit: func(r *Rule) { r.Labels["node"] = "{{ $labels.instance }" },
			errs: []Problem{{FieldLabels, `label "node" is not a valid template: line 1: unexpected "}" in operand`}}},
		{name: "bad annotation template", edit: func(r *Rule) { r.Annotations["description"] = "Hot.\n{{ humanise $value }}" },
			errs: []Problem{{FieldAnnotations, `annotation "description" is not a valid template: line 2: function "humanise" not defined`}}},
		{name: "undefined variable", edit: func(r *Rule) { r.Annotations["summary"] = "{{ $valeu }}" },
			errs: []Problem{{FieldAnnotations, `annotation "summary" is not a valid template: line 1: undefined variable "$valeu"`}}},
		{name: "invalid annotation name", edit: func(r *Rule) { r.Annotations["run book"] = "https://wiki/gpu" },
			errs: []Problem{{FieldAnnotations, `annotation name "run book" may contain only letters (a–z, A–Z), digits and underscores, and must not start with a digit`}}},
		{name: "$value in a label", edit: func(r *Rule) { r.Labels["temp"] = "{{ $value }}" },
			warnings: []Problem{{FieldLabels, `label "temp" uses $value: every change of value makes a new alert, so ` + "`for`" + ` never completes; put it in an annotation`}}},
		{name: "every field wrong, in field order", edit: func(r *Rule) {
			*r = Rule{Expr: "up[", For: -1, KeepFiringFor: -1, Labels: map[string]string{"b-": "", "a-": ""}, Annotations: map[string]string{"x": "{{"}}
		}, errs: []Problem{
			{FieldName, "name must not be empty"},
			{FieldExpr, "expression is not valid PromQL: at line 1, column 4: unexpected end of input in duration expression"},
			{FieldFor, `"for" must not be negative`},
			{FieldKeepFiringFor, `"keep firing for" must not be negative`},
			{FieldLabels, `label name "a-" may contain only letters (a–z, A–Z), digits and underscores, and must not start with a digit`},
			{FieldLabels, `label name "b-" may contain only letters (a–z, A–Z), digits and underscores, and must not start with a digit`},
			{FieldAnnotations, `annotation "x" is not a valid template: line 1: unclosed action`},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := hot()
			c.edit(&r)
			warnings, err := Validate(r, others)
			var got []Problem
			if err != nil {
				var ve *ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("error %T %v, want a *ValidationError", err, err)
				}
				got = ve.Problems
			}
			if !equal(got, c.errs) {
				t.Errorf("errors:\n%s\nwant:\n%s", show(got), show(c.errs))
			}
			if !equal(warnings, c.warnings) {
				t.Errorf("warnings:\n%s\nwant:\n%s", show(warnings), show(c.warnings))
			}
		})
	}
}

func TestValidationErrorText(t *testing.T) {
	_, err := Validate(Rule{Expr: "up", For: -1}, nil)
	want := `invalid rule: name must not be empty; "for" must not be negative`
	if err == nil || err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	if got := err.(*ValidationError).Messages(FieldFor); len(got) != 1 || got[0] != `"for" must not be negative` {
		t.Errorf("Messages(for) = %q", got)
	}
}

func equal(a, b []Problem) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func show(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.Field + ": " + p.Message + "\n")
	}
	return b.String()
}
