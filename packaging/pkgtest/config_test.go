package pkgtest

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/internal/flagdoc"
)

// The example configuration loads as gpuwd serve loads it, and points where
// the gpuwd package installs things.
func TestExampleConfigLoads(t *testing.T) {
	c, err := config.Load(filepath.Join(repo, "packaging/gpuwd.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Registration.TokenFile != "/etc/gpuwd/token" {
		t.Errorf("registration.token_file %q, want /etc/gpuwd/token (postinst makes it)", c.Registration.TokenFile)
	}
	if want := []string{"/usr/share/gpuwd/rules/*.yml", "/etc/gpuwd/rules/*.yml"}; !slices.Equal(c.RuleFiles, want) {
		t.Errorf("rule_files %q, want %q", c.RuleFiles, want)
	}
	if c.Alerting.ConfigFile != "/etc/gpuwd/alerting.yml" {
		t.Errorf("alerting.config_file %q, want /etc/gpuwd/alerting.yml", c.Alerting.ConfigFile)
	}
	if time.Duration(c.Storage.Retention) != 15*24*time.Hour {
		t.Errorf("storage.retention %v, want 15d", c.Storage.Retention)
	}
	if len(c.Dashboard.Admins) > 0 || c.Provision.RunPod != nil || len(c.ScrapeConfigs) > 0 {
		t.Error("the examples (admins, provision, scrape_configs) must stay commented out")
	}
}

// Every commented-out example ("#key:" or "#  nested:", as opposed to prose
// "# Text") is valid once uncommented.
func TestExampleConfigExamplesLoad(t *testing.T) {
	example := regexp.MustCompile(`(?m)^#(\S|  )`)
	text := example.ReplaceAllString(repoFile(t, "packaging/gpuwd.yml"), "$1")
	c, err := config.Parse([]byte(text), filepath.Join(repo, "packaging"))
	if err != nil {
		t.Fatalf("uncommented examples: %v\n%s", err, text)
	}
	if len(c.Dashboard.Admins) != 1 || c.Provision.RunPod == nil || len(c.Provision.IdlePolicies) != 1 ||
		len(c.ScrapeConfigs) != 1 || len(c.RemoteWrite) != 1 || len(c.Alerting.Alertmanagers) != 1 {
		t.Errorf("an example was not uncommented: %+v", c)
	}
}

// The environment files name only real variables, each commented out at the
// program's default, and leave out no flag but the simulation's.
func TestEnvironmentFilesMatchTheFlags(t *testing.T) {
	// Defaults that differ from the flag's, and why.
	unitDefaults := map[string]string{}
	for _, v := range values(parseUnit(repoFile(t, "packaging/systemd/gpuwd.service")), "Service", "Environment") {
		for kv := range strings.FieldsSeq(v) {
			k, val, _ := strings.Cut(kv, "=")
			unitDefaults["gpuwd "+k] = val // the unit sets them
		}
	}
	unitDefaults["gpuwd-agent GPUWD_SLURM_ROLE"] = "none" // a func flag: no default value, "none" is what empty means
	left := map[string]bool{"version": true}              // and every --simulate*

	setting := regexp.MustCompile(`(?m)^#?(GPUWD_[A-Z0-9_]+)=(.*)$`)
	for _, p := range flagdoc.Programs() {
		program, _, _ := strings.Cut(p.Command, " ")
		file := "packaging/default/" + program
		text := repoFile(t, file)
		if m := regexp.MustCompile(`(?m)^GPUWD_`).FindString(text); m != "" {
			t.Errorf("%s sets a variable: ship every setting commented out", file)
		}
		seen := map[string]string{}
		for _, m := range setting.FindAllStringSubmatch(text, -1) {
			if _, dup := seen[m[1]]; dup {
				t.Errorf("%s: %s twice", file, m[1])
			}
			seen[m[1]] = m[2]
		}
		for _, f := range flagdoc.Flags(p.Flags) {
			got, ok := seen[f.Env]
			delete(seen, f.Env)
			want, unit := unitDefaults[program+" "+f.Env]
			if !unit {
				want = f.Default
			}
			switch {
			case !ok && (left[f.Name] || strings.HasPrefix(f.Name, "simulate")):
			case !ok:
				t.Errorf("%s: no %s (--%s)", file, f.Env, f.Name)
			case got != want:
				t.Errorf("%s: #%s=%s, but the default is %q", file, f.Env, got, want)
			}
		}
		for env := range seen {
			t.Errorf("%s: %s is no flag of %s", file, env, p.Command)
		}
	}
}
