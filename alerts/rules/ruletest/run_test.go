package ruletest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name → content into a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func run(t *testing.T, opts Options, files ...string) (int, string) {
	t.Helper()
	var b bytes.Buffer
	code := Run(&b, files, opts)
	return code, b.String()
}

const hotRules = `groups:
  - name: g
    rules:
      - alert: Hot
        expr: temp > 80
        for: 2m
        annotations:
          summary: '{{ $labels.gpu }} at {{ $value }}'
`

func TestRunReportsLikePromtool(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"rules/hot.yml": hotRules,
		"ok.test.yml": `rule_files: [rules/*.yml]
tests:
  - input_series:
      - {series: 'temp{gpu="0"}', values: '90x5'}
    alert_rule_test:
      - eval_time: 3m
        alertname: Hot
        exp_alerts:
          - exp_labels: {gpu: "0"}
            exp_annotations: {summary: 0 at 90}
`,
		"bad.test.yml": `rule_files: [rules/hot.yml]
tests:
  - name: wrong
    input_series:
      - {series: 'temp{gpu="0"}', values: '90x5'}
    alert_rule_test:
      - eval_time: 3m
        alertname: Hot
    promql_expr_test:
      - expr: temp
        eval_time: 1m
        exp_samples:
          - {labels: 'temp{gpu="1"}', value: 1}
`,
	})
	ok, bad := filepath.Join(dir, "ok.test.yml"), filepath.Join(dir, "bad.test.yml")
	code, out := run(t, Options{}, ok)
	if want := "Unit Testing:  " + ok + "\n  SUCCESS\n\n"; code != ExitSuccess || out != want {
		t.Errorf("exit %d, output\n%q\nwant\n%q", code, out, want)
	}
	code, out = run(t, Options{}, ok, bad)
	want := "Unit Testing:  " + ok + "\n  SUCCESS\n\n" +
		"Unit Testing:  " + bad + "\n  FAILED:\n" +
		"    name: wrong,\n    alertname: Hot, time: 3m, \n        exp:[], \n        got:[\n" +
		"            0:\n              Labels:{alertname=\"Hot\", gpu=\"0\"}\n              Annotations:{summary=\"0 at 90\"}\n            ]\n\n" +
		"    expr: \"temp\", time: 1m,\n        exp: {__name__=\"temp\", gpu=\"1\"} 1E+00\n        got: {__name__=\"temp\", gpu=\"0\"} 9E+01\n\n\n"
	if code != ExitFailure || out != want {
		t.Errorf("exit %d, output\n%s\nwant\n%s", code, out, want)
	}
}

func TestRunOptionsRun(t *testing.T) {
	code, out := run(t, Options{Run: []string{"^pass-hot$", "^pass-expr"}}, "testdata/fail.test.yml")
	if code != ExitSuccess {
		t.Errorf("only passing groups selected, yet exit %d:\n%s", code, out)
	}
	code, _ = run(t, Options{Run: []string{"fail-expr"}}, "testdata/fail.test.yml")
	if code != ExitFailure {
		t.Errorf("failing group selected, yet exit %d", code)
	}
	if code, out := run(t, Options{Run: []string{"("}}, "testdata/fail.test.yml"); code != ExitFailure || !strings.Contains(out, "invalid") {
		t.Errorf("bad expression: exit %d, %q", code, out)
	}
}

// failures runs one test file's content (rules/hot.yml beside it) and
// returns the output, or "" when it passed.
func failures(t *testing.T, content string) string {
	t.Helper()
	dir := writeFiles(t, map[string]string{"rules/hot.yml": hotRules, "t.yml": content})
	code, out := run(t, Options{}, filepath.Join(dir, "t.yml"))
	if code == ExitSuccess {
		return ""
	}
	return out
}

func TestRunFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"unknown field", "rule_files: []\ntests:\n  - input_series: []\n    bogus: 1\n", "bogus"},
		{"repeated group order", "group_eval_order: [a, a]\ntests: []\n", "group name repeated in evaluation order: a"},
		{"histogram input", "tests:\n  - input_series:\n      - {series: h, values: '{{schema:0 sum:1 count:1}}'}\n    promql_expr_test:\n      - {expr: h, eval_time: 0m}\n", "native histograms are not supported"},
		{"histogram expected", "tests:\n  - promql_expr_test:\n      - {expr: 'vector(1)', eval_time: 0m, exp_samples: [{labels: '{}', histogram: '{{count:1}}'}]}\n", "native histograms are not supported"},
		{"missing alertname", "tests:\n  - name: n\n    alert_rule_test:\n      - eval_time: 1m\n", "misses required attribute alertname at eval_time 1m (in TestGroup n)"},
		{"bad labels", "tests:\n  - promql_expr_test:\n      - {expr: 'vector(1)', eval_time: 0m, exp_samples: [{labels: '{', value: 1}]}\n", `labels "{"`},
		{"bad expr", "tests:\n  - promql_expr_test:\n      - {expr: 'sum(', eval_time: 1m}\n", `expr: "sum(", time: 1m, err:`},
		{"bad external url", "tests:\n  - external_url: '%zz'\n", "external URL"},
	} {
		if out := failures(t, tc.content); !strings.Contains(out, tc.want) {
			t.Errorf("%s: output %q, want it to contain %q", tc.name, out, tc.want)
		}
	}
	if code, out := run(t, Options{}, filepath.Join(t.TempDir(), "missing.yml")); code != ExitFailure || !strings.Contains(out, "no such file") {
		t.Errorf("missing file: exit %d, %q", code, out)
	}
}

func TestRunWarnsAboutUnmatchedRuleFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{"t.yml": "rule_files: [none/*.yml]\ntests: []\n"})
	code, out := run(t, Options{}, filepath.Join(dir, "t.yml"))
	if code != ExitSuccess || !strings.Contains(out, "  WARNING: no file match pattern "+filepath.Join(dir, "none/*.yml")) {
		t.Errorf("exit %d, %q", code, out)
	}
}

func TestRunStartTimestamp(t *testing.T) {
	for _, start := range []string{"1700000000", "2023-11-14T22:13:20Z"} {
		out := failures(t, `rule_files: [rules/hot.yml]
tests:
  - start_timestamp: `+start+`
    input_series:
      - {series: 'temp{gpu="0"}', values: '90x5'}
    alert_rule_test:
      - eval_time: 2m
        alertname: Hot
        exp_alerts:
          - exp_labels: {gpu: "0"}
            exp_annotations: {summary: 0 at 90}
    promql_expr_test:
      - expr: time()
        eval_time: 1m
        exp_samples: [{labels: '{}', value: 1700000060}]
      - expr: timestamp(temp)
        eval_time: 90s
        exp_samples: [{labels: '{gpu="0"}', value: 1700000060}]
`)
		if out != "" {
			t.Errorf("start %s:\n%s", start, out)
		}
	}
}

func TestRunFuzzyCompare(t *testing.T) {
	test := `tests:
  - promql_expr_test:
      - expr: 0.1 + 0.2
        eval_time: 0m
        exp_samples: [{labels: '{}', value: 0.3}]
`
	if failures(t, test) == "" {
		t.Error("0.1+0.2 equals 0.3 without fuzzy_compare")
	}
	if out := failures(t, "fuzzy_compare: true\n"+test); out != "" {
		t.Errorf("fuzzy_compare: %s", out)
	}
}

// Eval times between evaluations see the evaluation before them; the
// evaluation interval, not the series interval, sets the steps.
func TestRunEvalTimesBetweenEvaluations(t *testing.T) {
	out := failures(t, `rule_files: [rules/hot.yml]
evaluation_interval: 2m
tests:
  - interval: 1m
    input_series:
      - {series: 'temp{gpu="0"}', values: '0 90x9'}
    alert_rule_test:
      - eval_time: 3m59s
        alertname: Hot
      - eval_time: 5m
        alertname: Hot
        exp_alerts:
          - exp_labels: {gpu: "0"}
            exp_annotations: {summary: 0 at 90}
`)
	if out != "" {
		t.Error(out)
	}
}
