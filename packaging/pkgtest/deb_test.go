package pkgtest

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/internal/flagdoc"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// debFiles lists a package's files (not directories), as installed paths.
func debFiles(t *testing.T, deb string) []string {
	t.Helper()
	var files []string
	for line := range strings.SplitSeq(strings.TrimSpace(run(t, nil, "dpkg-deb", "-c", deb)), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 6 || strings.HasPrefix(fields[0], "d") {
			continue
		}
		files = append(files, fields[0]+" "+fields[1]+" "+strings.TrimPrefix(fields[5], "."))
	}
	sort.Strings(files)
	return files
}

func TestDebContents(t *testing.T) {
	testenv.LookPath(t, "dpkg-deb")
	_, agentDeb, serverDeb := packages(t)
	rules, _ := filepath.Glob(filepath.Join(repo, "packaging/rules/*.yml"))
	for _, c := range []struct {
		deb       string
		fields    map[string]string
		files     []string // mode owner/group path; the environment files may hold secrets
		conffiles []string
	}{
		{agentDeb, map[string]string{
			"Package": "gpuwd-agent", "Version": debVersion, "Architecture": "amd64",
			"Suggests": "slurmd, slurmctld, slurm-client, munge, libnvidia-ml1, nvidia-driver",
		}, []string{
			"-rw------- root/root /etc/default/gpuwd-agent",
			"-rw-r--r-- root/root /lib/systemd/system/gpuwd-agent.service",
			"-rwxr-xr-x root/root /usr/bin/gpuwd-agent",
			"-rw-r--r-- root/root /usr/share/gpuwd-agent/slurm.conf",
		}, []string{"/etc/default/gpuwd-agent"}},
		{serverDeb, map[string]string{
			"Package": "gpuwd", "Version": debVersion, "Architecture": "amd64", "Depends": "passwd",
		}, append([]string{
			"-rw------- root/root /etc/default/gpuwd",
			"-rw-r--r-- root/root /etc/gpuwd/alerting.yml",
			"-rw-r--r-- root/root /etc/gpuwd/gpuwd.yml",
			"-rw-r--r-- root/root /lib/systemd/system/gpuwd.service",
			"-rwxr-xr-x root/root /usr/bin/gpuwd",
		}, ruleFiles(rules)...), []string{"/etc/default/gpuwd", "/etc/gpuwd/alerting.yml", "/etc/gpuwd/gpuwd.yml"}},
	} {
		t.Run(filepath.Base(c.deb), func(t *testing.T) {
			for field, want := range c.fields {
				if got := strings.TrimSpace(run(t, nil, "dpkg-deb", "-f", c.deb, field)); got != want {
					t.Errorf("%s: %q, want %q", field, got, want)
				}
			}
			sort.Strings(c.files)
			if got := debFiles(t, c.deb); !slices.Equal(got, c.files) {
				t.Errorf("files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.files, "\n"))
			}
			got := strings.Fields(run(t, nil, "dpkg-deb", "-I", c.deb, "conffiles"))
			if sort.Strings(got); !slices.Equal(got, c.conffiles) {
				t.Errorf("conffiles %q, want %q", got, c.conffiles)
			}
			for _, script := range []string{"postinst", "prerm", "postrm"} {
				if !strings.HasPrefix(run(t, nil, "dpkg-deb", "-I", c.deb, script), "#!/bin/sh\n") {
					t.Errorf("%s is not a shell script", script)
				}
			}
		})
	}
	// The agent links glibc (cgo): its dependency names the version it needs.
	if got := run(t, nil, "dpkg-deb", "-f", agentDeb, "Depends"); !regexp.MustCompile(`^libc6 \(>= 2\.\d+\), passwd\n$`).MatchString(got) {
		t.Errorf("gpuwd-agent Depends: %q", got)
	}
}

func ruleFiles(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, "-rw-r--r-- root/root /usr/share/gpuwd/rules/"+filepath.Base(p))
	}
	return out
}

// package.sh makes Debian versions that sort as the commits do.
func TestPackageVersions(t *testing.T) {
	for _, p := range []string{"git", "dpkg"} {
		testenv.LookPath(t, p)
	}
	version := func(v string) string {
		return strings.TrimSpace(run(t, []string{"VERSION=" + v}, filepath.Join(repo, "packaging/package.sh"), "--print-version"))
	}
	for in, want := range map[string]string{
		"v1.2.3":                  `1\.2\.3`,
		"1.2.3~rc1":               `1\.2\.3~rc1`,
		"v1.2.3-4-gabc1234":       `1\.2\.3\+git\d{8}\.4\.abc1234`,
		"v1.2.3-4-gabc1234-dirty": `1\.2\.3\+git\d{8}\.4\.abc1234\.dirty`,
		"1234567":                 `0\.0\.0~git\d{8}\.\d+\.1234567`,
		"abc1234-dirty":           `0\.0\.0~git\d{8}\.\d+\.abc1234\.dirty`,
	} {
		if got := version(in); !regexp.MustCompile("^" + want + "$").MatchString(got) {
			t.Errorf("VERSION=%s: %s, want %s", in, got, want)
		}
	}
	ordered := []string{version("abc1234"), version("v0.1.0"), version("v0.1.0-3-gabc1234"), version("v0.1.1")}
	for i := 1; i < len(ordered); i++ {
		if err := exec.Command("dpkg", "--compare-versions", ordered[i-1], "lt", ordered[i]).Run(); err != nil {
			t.Errorf("%s does not sort before %s", ordered[i-1], ordered[i])
		}
	}
	if out, err := exec.Command(filepath.Join(repo, "packaging/package.sh"), "--print-version").CombinedOutput(); err != nil {
		t.Errorf("no VERSION (git describe): %v\n%s", err, out)
	}
	cmd := exec.Command(filepath.Join(repo, "packaging/package.sh"), "--print-version")
	cmd.Env = append(cmd.Environ(), "VERSION=dev")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("VERSION=dev made a version: %s", out)
	}
}

// The shell scripts are POSIX sh, stop at the first error, and pass
// shellcheck.
func TestShellScripts(t *testing.T) {
	shellcheck := testenv.LookPath(t, "shellcheck")
	scripts, _ := filepath.Glob(filepath.Join(repo, "packaging/nfpm/scripts/*"))
	scripts = append(scripts, filepath.Join(repo, "packaging/package.sh"))
	for _, s := range scripts {
		text := readFile(t, s)
		if !strings.HasPrefix(text, "#!/bin/sh\n") || !strings.Contains(text, "\nset -eu\n") {
			t.Errorf("%s: want #!/bin/sh and set -eu", s)
		}
		if out, err := exec.Command(shellcheck, "-s", "sh", s).CombinedOutput(); err != nil {
			t.Errorf("shellcheck %s: %v\n%s", s, err, out)
		}
	}
}

// The built programs print the version and revision the build stamped.
func TestVersionStamped(t *testing.T) {
	bin, _, _ := packages(t)
	for prog, want := range map[string]string{
		"gpuwd":       "gpuwd " + buildVersion + " (" + buildRevision + ")\n",
		"gpuwd-agent": "gpuwd-agent " + buildVersion + " (" + buildRevision + ")\n",
	} {
		if got := run(t, nil, filepath.Join(bin, prog), "--version"); got != want {
			t.Errorf("%s --version: %q, want %q", prog, got, want)
		}
	}
}

// The README's flag reference (package flagdoc) covers exactly the flags the built
// programs accept, including those their mains add themselves.
func TestShippedFlagsAreDocumented(t *testing.T) {
	bin, _, _ := packages(t)
	flagLine := regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)
	for _, p := range flagdoc.Programs() {
		args := strings.Fields(p.Command)
		cmd := exec.Command(filepath.Join(bin, args[0]), append(args[1:], "-h")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s -h: %v\n%s", p.Command, err, out)
		}
		var shipped, documented []string
		for _, m := range flagLine.FindAllStringSubmatch(string(out), -1) {
			shipped = append(shipped, m[1])
		}
		for _, f := range flagdoc.Flags(p.Flags) {
			documented = append(documented, f.Name)
		}
		if !slices.Equal(shipped, documented) {
			t.Errorf("%s: the program has flags %q, the README's reference %q", p.Command, shipped, documented)
		}
	}
}
