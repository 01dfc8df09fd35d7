package ruletest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// The parity tests run the same files through the real promtool and through
// Run and require the same verdict, per file and per test group. Test
// groups named fail-* (and files named fail*) are meant to fail, the others
// to pass, so that both agreeing on a broken file is caught too. The files
// stay within what promtool 2.42 (Debian's) supports, and avoid
// samples exactly at a range or lookback boundary, where 2.x and 3.x
// differ (closed versus left-open intervals).

func TestParityWithPromtool(t *testing.T) {
	promtool := testenv.LookPath(t, "promtool")
	files, err := filepath.Glob("testdata/*.test.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			wantFail := strings.HasPrefix(filepath.Base(f), "fail")
			dir := t.TempDir()
			whole := normalized(t, f, dir, -1)
			pc, pout := runPromtool(t, promtool, whole)
			oc, oout := runOurs(whole)
			if pc != oc {
				t.Errorf("promtool exit %d, ours %d\npromtool:\n%s\nours:\n%s", pc, oc, pout, oout)
			}
			if (oc != 0) != wantFail {
				t.Errorf("exit %d, want failure %v:\n%s", oc, wantFail, oout)
			}
			for i, name := range groupNames(t, f) {
				single := normalized(t, f, dir, i)
				pc, pout := runPromtool(t, promtool, single)
				oc, oout := runOurs(single)
				if pc != oc {
					t.Errorf("test group %d %q: promtool exit %d, ours %d\npromtool:\n%s\nours:\n%s", i, name, pc, oc, pout, oout)
				}
				if want := strings.HasPrefix(name, "fail"); (oc != 0) != want {
					t.Errorf("test group %d %q: exit %d, want failure %v:\n%s", i, name, oc, want, oout)
				}
			}
		})
	}
}

// packTests are the default rule pack's unit tests, which must pass.
func packTests(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../../packaging/rules/tests/*.test.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no packaging/rules/tests/*.test.yml: %v", err)
	}
	return files
}

func TestRulePackPasses(t *testing.T) {
	for _, f := range packTests(t) {
		if code, out := runOurs(f); code != ExitSuccess {
			t.Errorf("%s: exit %d\n%s", f, code, out)
		}
	}
}

func TestRulePackPassesPromtool(t *testing.T) {
	promtool := testenv.LookPath(t, "promtool")
	for _, f := range packTests(t) {
		if code, out := runPromtool(t, promtool, normalized(t, f, t.TempDir(), -1)); code != 0 {
			t.Errorf("%s: promtool exit %d\n%s", f, code, out)
		}
	}
}

func runPromtool(t *testing.T, promtool, file string) (int, string) {
	t.Helper()
	out, err := exec.Command(promtool, "test", "rules", file).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("promtool: %v\n%s", err, out)
	return 0, ""
}

func runOurs(file string) (int, string) {
	var b bytes.Buffer
	code := Run(&b, []string{file}, Options{})
	return code, b.String()
}

// readYAML reads a test file as plain maps.
func readYAML(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return doc
}

func groupNames(t *testing.T, file string) []string {
	var names []string
	tests, _ := readYAML(t, file)["tests"].([]any)
	for _, tg := range tests {
		name, _ := tg.(map[string]any)["name"].(string)
		names = append(names, name)
	}
	return names
}

// normalized writes into dir a copy of file that runs the same anywhere
// and under promtool 2.42: rule_files absolute, every test group's interval
// explicit (2.42 does not default it to evaluation_interval as 3.x does)
// and, when only >= 0, only that test group.
func normalized(t *testing.T, file, dir string, only int) string {
	t.Helper()
	doc := readYAML(t, file)
	base, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		t.Fatal(err)
	}
	rf, _ := doc["rule_files"].([]any)
	for i, p := range rf {
		if s, _ := p.(string); s != "" && !filepath.IsAbs(s) {
			rf[i] = filepath.Join(base, s)
		}
	}
	interval, ok := doc["evaluation_interval"]
	if !ok {
		interval = "1m"
	}
	tests, _ := doc["tests"].([]any)
	for _, tg := range tests {
		if m, ok := tg.(map[string]any); ok {
			if _, ok := m["interval"]; !ok {
				m["interval"] = interval
			}
		}
	}
	if only >= 0 {
		doc["tests"] = tests[only : only+1]
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, fmt.Sprintf("%s.%d.yml", strings.TrimSuffix(filepath.Base(file), ".yml"), only))
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}
