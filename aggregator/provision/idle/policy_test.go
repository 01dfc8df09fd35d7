package idle

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules/ruletest"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// testPolicies are the policies testdata/idle.test.yml tests.
var testPolicies = []Policy{
	{Name: "h100-local", Provider: "local", GPUType: "h100", BelowPercent: 5, For: 30 * time.Minute, Grace: 10 * time.Minute, Action: Stop},
	{Name: "runpod-any", Provider: "runpod", BelowPercent: 2.5, For: 20 * time.Minute, Action: Terminate, DryRun: true, Labels: map[string]string{"team": "ml"}},
}

// writeRuleTest puts the policies' rule file beside a copy of the unit
// test file, in a temporary directory, and returns the test file's path.
func writeRuleTest(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	b, err := RuleFile(testPolicies)
	if err != nil {
		t.Fatal(err)
	}
	test, err := os.ReadFile("testdata/idle.test.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "idle.test.yml")
	if err := os.WriteFile(f, test, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// The rules fire for idle pods of their pool only: not for a pod that got
// busy, one that opted out, one of another GPU type, or an agent no
// provider runs; with the grace and dry run said in the notice.
func TestPolicyRulesFireForIdlePodsOfTheirPool(t *testing.T) {
	var out bytes.Buffer
	if code := ruletest.Run(&out, []string{writeRuleTest(t)}, ruletest.Options{}); code != ruletest.ExitSuccess {
		t.Fatalf("ruletest:\n%s", &out)
	}
}

func TestPolicyRulesPassPromtool(t *testing.T) {
	promtool := testenv.LookPath(t, "promtool")
	f := writeRuleTest(t)
	for _, args := range [][]string{{"check", "rules", filepath.Join(filepath.Dir(f), "rules.yml")}, {"test", "rules", f}} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestRuleFileParsesAsOurRules(t *testing.T) {
	b, err := RuleFile(testPolicies)
	if err != nil {
		t.Fatal(err)
	}
	gs, err := rules.Parse("idle.yml", b, rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].Name() != GroupName || len(gs[0].Rules()) != 2 {
		t.Fatalf("groups: %v", gs)
	}
	if b, err := RuleFile(nil); b != nil || err != nil {
		t.Errorf("no policies: %q, %v", b, err)
	}
}

func TestCheckNamesEveryMistake(t *testing.T) {
	err := Check([]Policy{
		{Name: "ok", BelowPercent: 5, For: time.Hour, Action: Stop},
		{Name: "bad name!", BelowPercent: 0, For: 0, Grace: -1, Action: "reboot", Labels: map[string]string{"alertname": "x", "1x": "y"}},
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`name "bad name!"`, "below_percent 0", "for 0s", "grace", `action "reboot"`, `label "alertname" is set by gpuwd`, `label name "1x"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "[0]") {
		t.Errorf("the good policy was blamed: %v", err)
	}
}
