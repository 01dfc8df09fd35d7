package amapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/silence"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// amtool runs the real amtool against the API: it is the reference client
// (Alertmanager's generated API client and models).
func amtool(t *testing.T, url string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	path := testenv.LookPath(t, "amtool")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // only so a hang cannot outlive the test
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, path, append([]string{"--alertmanager.url=" + url}, args...)...)
	// No amtool configuration from the user running the tests.
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "USER=tester")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return out.String(), errOut.String(), exit.ExitCode()
	case err != nil:
		t.Fatalf("amtool %q: %v", args, err)
	}
	return out.String(), errOut.String(), 0
}

func TestAmtool(t *testing.T) {
	testenv.LookPath(t, "amtool")
	f := serve(t)
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := amtool(t, f.srv.URL, args...)
		if code != 0 {
			t.Fatalf("amtool %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
		return out
	}

	// silence add prints the new silence's ID.
	id := strings.TrimSpace(run("silence", "add", "alertname=GPUOverheating", "-c", "maintenance", "-d", "1h"))
	if !uuidRE.MatchString(id) {
		t.Fatalf("silence add printed %q, want an ID", id)
	}
	stored, err := f.s.Get(id)
	if err != nil || stored.Comment != "maintenance" || stored.CreatedBy == "" || len(stored.Matchers) != 1 ||
		stored.Matchers[0] != (silence.Matcher{Name: "alertname", Value: "GPUOverheating", IsEqual: true}) {
		t.Fatalf("stored silence %+v, %v", stored, err)
	}
	if d := stored.EndsAt.Sub(stored.StartsAt); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("silence lasts %s, want 1h", d)
	}

	// silence query -o json decodes into amtool's models and back.
	var sils []struct {
		ID       string `json:"id"`
		Comment  string `json:"comment"`
		Matchers []struct {
			Name    string `json:"name"`
			Value   string `json:"value"`
			IsRegex bool   `json:"isRegex"`
			IsEqual bool   `json:"isEqual"`
		} `json:"matchers"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
		StartsAt time.Time `json:"startsAt"`
		EndsAt   time.Time `json:"endsAt"`
	}
	if err := json.Unmarshal([]byte(run("silence", "query", "-o", "json")), &sils); err != nil {
		t.Fatal(err)
	}
	if len(sils) != 1 || sils[0].ID != id || sils[0].Comment != "maintenance" || sils[0].Status.State != "active" ||
		len(sils[0].Matchers) != 1 || sils[0].Matchers[0].Value != "GPUOverheating" || !sils[0].Matchers[0].IsEqual {
		t.Fatalf("silence query -o json: %+v", sils)
	}
	// The simple table, and a filtered query.
	if out := run("silence", "query"); !strings.Contains(out, id) || !strings.Contains(out, `alertname="GPUOverheating"`) || !strings.Contains(out, "maintenance") {
		t.Errorf("silence query:\n%s", out)
	}
	if out := run("silence", "query", "-q", "alertname=GPUOverheating"); strings.TrimSpace(out) != id {
		t.Errorf("silence query -q alertname=GPUOverheating: %q", out)
	}
	if out := run("silence", "query", "-q", "alertname=Other"); strings.TrimSpace(out) != "" {
		t.Errorf("silence query -q alertname=Other: %q", out)
	}

	// alert query shows the active alerts: neither the silenced
	// GPUOverheating nor the inhibited GPUDown.
	out := run("alert", "query")
	if !strings.Contains(out, "NodeDown") || strings.Contains(out, "GPUOverheating") || strings.Contains(out, "GPUDown") || !strings.Contains(out, "NodeDown on n2") {
		t.Errorf("alert query:\n%s", out)
	}
	if out := run("alert", "query", "--silenced"); !strings.Contains(out, "GPUOverheating") || strings.Contains(out, "NodeDown") {
		t.Errorf("alert query --silenced:\n%s", out)
	}
	if out := run("alert", "query", "--inhibited", "GPUDown"); !strings.Contains(out, "GPUDown") {
		t.Errorf("alert query --inhibited GPUDown:\n%s", out)
	}
	var alerts []struct {
		Labels    map[string]string `json:"labels"`
		Receivers []struct {
			Name string `json:"name"`
		} `json:"receivers"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(run("alert", "query", "-o", "json", "alertname=NodeDown")), &alerts); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].Labels["instance"] != "n2" || alerts[0].Status.State != "active" || alerts[0].Receivers[0].Name != "pager" {
		t.Errorf("alert query -o json: %+v", alerts)
	}

	// silence update extends it in place.
	run("silence", "update", "--duration", "2h", id)
	if s, _ := f.s.Get(id); s.EndsAt.Sub(s.StartsAt) < 119*time.Minute {
		t.Errorf("after update the silence lasts %s", s.EndsAt.Sub(s.StartsAt))
	}

	// silence expire ends it; the alert is active again.
	run("silence", "expire", id)
	if s, _ := f.s.Get(id); s.State(time.Now()) != silence.StateExpired {
		t.Errorf("after expire the silence is %s", s.State(time.Now()))
	}
	if out := run("alert", "query"); !strings.Contains(out, "GPUOverheating") {
		t.Errorf("alert query after expire:\n%s", out)
	}
	if out := run("silence", "query"); strings.Contains(out, id) {
		t.Errorf("silence query lists the expired silence:\n%s", out)
	}
	if out := run("silence", "query", "--expired"); !strings.Contains(out, id) {
		t.Errorf("silence query --expired:\n%s", out)
	}

	// Errors reach amtool as Alertmanager's do.
	if _, errOut, code := amtool(t, f.srv.URL, "silence", "expire", "00000000-0000-4000-8000-000000000000"); code == 0 {
		t.Errorf("expiring an unknown silence succeeded: %s", errOut)
	}
	if _, errOut, code := amtool(t, f.srv.URL, "silence", "add", `foo=~".*"`, "-c", "x"); code == 0 || !strings.Contains(errOut, "at least one matcher must not match the empty string") {
		t.Errorf("adding a silence matching everything: exit %d, %s", code, errOut)
	}
	// The status amtool reads first, and config show.
	if out := run("config", "show"); !strings.Contains(out, "receiver: chat") || strings.Contains(out, "topsecret") {
		t.Errorf("config show:\n%s", out)
	}
}
