package pkgtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// entry is one Key=Value line of a unit file.
type entry struct{ section, key, value string }

// parseUnit reads a unit file or drop-in (no line continuations).
func parseUnit(text string) []entry {
	var out []entry
	section := ""
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
		default:
			k, v, _ := strings.Cut(line, "=")
			out = append(out, entry{section, k, v})
		}
	}
	return out
}

// values are the values of key in section, in order.
func values(entries []entry, section, key string) []string {
	var out []string
	for _, e := range entries {
		if e.section == section && e.key == key {
			out = append(out, e.value)
		}
	}
	return out
}

// verifyRoot is a file system root for systemd-analyze --root: the units as
// the packages install them, stand-ins for the programs they run, and the
// host's targets (sysinit.target, network-online.target, …).
func verifyRoot(t *testing.T, slurmDropIn bool) string {
	t.Helper()
	root := t.TempDir()
	units := filepath.Join(root, "lib/systemd/system")
	targets, _ := filepath.Glob("/lib/systemd/system/*.target")
	if len(targets) == 0 {
		targets, _ = filepath.Glob("/usr/lib/systemd/system/*.target")
	}
	if len(targets) == 0 {
		testenv.Missing(t, "no systemd targets in /lib/systemd/system (install systemd)")
	}
	for _, dir := range []string{units, filepath.Join(root, "usr/bin"), filepath.Join(root, "bin")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{}
	for _, p := range targets {
		files[filepath.Join(units, filepath.Base(p))] = readFile(t, p)
	}
	for _, u := range []string{"gpuwd.service", "gpuwd-agent.service"} {
		files[filepath.Join(units, u)] = repoFile(t, "packaging/systemd/"+u)
	}
	if slurmDropIn {
		files[filepath.Join(units, "gpuwd-agent.service.d/slurm.conf")] = repoFile(t, "packaging/systemd/gpuwd-agent-slurm.conf")
	}
	for _, p := range []string{"usr/bin/gpuwd", "usr/bin/gpuwd-agent", "bin/kill"} {
		files[filepath.Join(root, p)] = "#!/bin/sh\n"
	}
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// systemd-analyze verify accepts both units, the agent's also with its Slurm
// drop-in, without a single warning (an unknown key or a bad value is only
// a warning to systemd).
func TestUnitsVerify(t *testing.T) {
	analyze := testenv.LookPath(t, "systemd-analyze")
	for _, dropIn := range []bool{false, true} {
		root := verifyRoot(t, dropIn)
		out, err := exec.Command(analyze, "verify", "--root="+root, "gpuwd.service", "gpuwd-agent.service").CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify (Slurm drop-in %v): %v\n%s", dropIn, err, out)
		}
	}
}

// Both units keep a tight sandbox: systemd's own exposure score (0 to 10;
// 1.4 and 2.1 with systemd 252) stays low.
func TestUnitsExposure(t *testing.T) {
	analyze := testenv.LookPath(t, "systemd-analyze")
	root := verifyRoot(t, false)
	for unit, limit := range map[string]float64{"gpuwd.service": 2, "gpuwd-agent.service": 3} {
		threshold := fmt.Sprintf("--threshold=%d", int(limit*10)) // in tenths
		out, err := exec.Command(analyze, "security", "--offline=true", "--root="+root, threshold, unit).CombinedOutput()
		if err != nil {
			t.Errorf("%s: exposure over %.1f: %v\n%s", unit, limit, err, out)
		}
	}
}

// Slurm jobs run inside the agent's unit and would inherit its sandbox, so
// the Slurm drop-in must undo every sandbox setting the unit makes.
func TestSlurmDropInUndoesTheSandbox(t *testing.T) {
	base := parseUnit(repoFile(t, "packaging/systemd/gpuwd-agent.service"))
	dropIn := parseUnit(repoFile(t, "packaging/systemd/gpuwd-agent-slurm.conf"))
	notSandbox := []string{"Type", "EnvironmentFile", "ExecStart", "KillSignal", "KillMode", "TimeoutStopSec", "Restart", "RestartSec"}
	for _, e := range base {
		if e.section != "Service" || slices.Contains(notSandbox, e.key) {
			continue
		}
		if len(values(dropIn, "Service", e.key)) == 0 {
			t.Errorf("the Slurm drop-in leaves %s=%s of gpuwd-agent.service in place", e.key, e.value)
		}
	}
	for key, want := range map[string]string{"User": "root", "NoNewPrivileges": "no", "ProtectSystem": "no", "Delegate": "yes", "CapabilityBoundingSet": "~"} {
		if got := values(dropIn, "Service", key); len(got) == 0 || got[len(got)-1] != want {
			t.Errorf("drop-in %s=%v, want %s", key, got, want)
		}
	}
}

// What the units promise about how they run the programs.
func TestUnitsRunThePrograms(t *testing.T) {
	for _, c := range []struct {
		unit string
		want map[string]string
	}{
		{"gpuwd.service", map[string]string{
			"Type": "exec", "User": "gpuwd", "ExecStart": "/usr/bin/gpuwd serve", "EnvironmentFile": "-/etc/default/gpuwd",
			"StateDirectory": "gpuwd", "Restart": "on-failure", "KillSignal": "SIGTERM", "ExecReload": "/bin/kill -HUP $MAINPID",
		}},
		{"gpuwd-agent.service", map[string]string{
			"Type": "exec", "User": "gpuwd-agent", "SupplementaryGroups": "video", "ExecStart": "/usr/bin/gpuwd-agent",
			"EnvironmentFile": "-/etc/default/gpuwd-agent", "Restart": "on-failure", "KillSignal": "SIGTERM",
			// The agent alone gets SIGTERM and stops its Slurm daemons in order.
			"KillMode": "mixed",
		}},
	} {
		entries := parseUnit(repoFile(t, "packaging/systemd/"+c.unit))
		for key, want := range c.want {
			if got := values(entries, "Service", key); len(got) != 1 || got[0] != want {
				t.Errorf("%s: %s=%v, want %s", c.unit, key, got, want)
			}
		}
		if got := values(entries, "Install", "WantedBy"); len(got) != 1 || got[0] != "multi-user.target" {
			t.Errorf("%s: WantedBy=%v, want multi-user.target (postinst and postrm rely on it)", c.unit, got)
		}
	}
}
