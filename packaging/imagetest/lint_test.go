package imagetest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// The Dockerfiles and scripts the images are made of, from the module root.
var (
	dockerfiles = []string{"Dockerfile.agent", "packaging/gpuwd.Dockerfile"}
	scriptDir   = "packaging/image"
)

func repoPath(t testing.TB, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHadolint(t *testing.T) {
	hadolint, err := exec.LookPath("hadolint")
	if err != nil {
		// Not in Debian, and nothing else can be fetched here: even under CI
		// this is a note, not a failure. TestDockerfileConventions checks
		// the rules that matter most here.
		t.Skip("hadolint not installed (not packaged by Debian); TestDockerfileConventions covers its main rules")
	}
	for _, f := range dockerfiles {
		out, err := exec.Command(hadolint, repoPath(t, f)).CombinedOutput()
		if err != nil {
			t.Errorf("hadolint %s: %v\n%s", f, err, out)
		}
	}
}

func TestShellcheck(t *testing.T) {
	shellcheck := testenv.LookPath(t, "shellcheck")
	entries, err := os.ReadDir(repoPath(t, scriptDir))
	if err != nil {
		t.Fatal(err)
	}
	var scripts []string
	for _, e := range entries {
		p := filepath.Join(repoPath(t, scriptDir), e.Name())
		if b, err := os.ReadFile(p); err == nil && bytes.HasPrefix(b, []byte("#!/bin/")) {
			scripts = append(scripts, p)
		}
	}
	if len(scripts) < 5 {
		t.Fatalf("found only %d scripts in %s", len(scripts), scriptDir)
	}
	if out, err := exec.Command(shellcheck, scripts...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line      int
	cmd, args string
}

func parseDockerfile(t testing.TB, path string) []instruction {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur *instruction
	for i, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == nil {
			if trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			cmd, args, _ := strings.Cut(trimmed, " ")
			cur = &instruction{line: i + 1, cmd: strings.ToUpper(cmd)}
			trimmed = args
		} else if strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		cont := strings.HasSuffix(trimmed, "\\")
		cur.args += " " + strings.TrimSuffix(trimmed, "\\")
		if !cont {
			cur.args = strings.TrimSpace(cur.args)
			out = append(out, *cur)
			cur = nil
		}
	}
	return out
}

var (
	jsonForm   = regexp.MustCompile(`^\[\s*".*"\s*\]$`)
	aptInstall = regexp.MustCompile(`apt-get\s+install`)
)

// Hadolint's main rules, and this project's: the images must build with no
// registry but the bases they name, so every base is a build argument.
func TestDockerfileConventions(t *testing.T) {
	for _, f := range dockerfiles {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(repoPath(t, f))
			if err != nil {
				t.Fatal(err)
			}
			if regexp.MustCompile(`(?mi)^#\s*syntax\s*=`).Match(raw) {
				t.Error(`a "# syntax=" directive pulls the frontend from a registry`)
			}
			stages := map[string]bool{}
			globalArgs := map[string]bool{}
			seen := map[string]bool{}
			for _, in := range parseDockerfile(t, repoPath(t, f)) {
				seen[in.cmd] = true
				switch in.cmd {
				case "ARG":
					if !seen["FROM"] {
						name, _, _ := strings.Cut(in.args, "=")
						globalArgs[name] = true
					}
				case "FROM":
					fields := strings.Fields(in.args)
					image := fields[0]
					if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
						stages[fields[2]] = true
					}
					arg := strings.Trim(image, "${}")
					switch {
					case image == "scratch" || stages[image]:
					case strings.HasPrefix(image, "$") && globalArgs[arg]:
					default:
						t.Errorf("line %d: FROM %s: name bases through a build argument declared before the first FROM", in.line, image)
					}
				case "RUN":
					if aptInstall.MatchString(in.args) {
						if !strings.Contains(in.args, "--no-install-recommends") || !strings.Contains(in.args, "-y") {
							t.Errorf("line %d: apt-get install without -y --no-install-recommends (DL3014, DL3015)", in.line)
						}
						if !strings.Contains(in.args, "rm -rf /var/lib/apt/lists") {
							t.Errorf("line %d: apt lists not removed in the same RUN (DL3009)", in.line)
						}
					}
					for _, bad := range []string{"sudo ", "apt-get upgrade", "apt-get dist-upgrade"} {
						if strings.Contains(in.args, bad) {
							t.Errorf("line %d: %q in RUN (DL3004, DL3005)", in.line, strings.TrimSpace(bad))
						}
					}
				case "ENTRYPOINT", "CMD":
					if !jsonForm.MatchString(in.args) {
						t.Errorf("line %d: %s in shell form: signals would not reach the program (DL3025)", in.line, in.cmd)
					}
				case "HEALTHCHECK":
					_, cmd, _ := strings.Cut(in.args, "CMD ")
					if !jsonForm.MatchString(strings.TrimSpace(cmd)) {
						t.Errorf("line %d: HEALTHCHECK CMD not in exec form", in.line)
					}
				case "ADD":
					t.Errorf("line %d: ADD: use COPY (DL3020)", in.line)
				case "WORKDIR":
					if !strings.HasPrefix(in.args, "/") {
						t.Errorf("line %d: WORKDIR %s is relative (DL3000)", in.line, in.args)
					}
				case "MAINTAINER":
					t.Errorf("line %d: MAINTAINER is deprecated (DL4000)", in.line)
				}
				if in.cmd == "FROM" && strings.Contains(in.args, ":latest") {
					t.Errorf("line %d: a :latest base (DL3007)", in.line)
				}
			}
			for _, want := range []string{"LABEL", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "STOPSIGNAL"} {
				if !seen[want] {
					t.Errorf("no %s", want)
				}
			}
			for _, label := range []string{"org.opencontainers.image.version", "org.opencontainers.image.revision", "org.opencontainers.image.source"} {
				if !bytes.Contains(raw, []byte(label+"=")) {
					t.Errorf("no %s label", label)
				}
			}
		})
	}
}
