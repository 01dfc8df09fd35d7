package pkgtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// The build the package tests share: binaries stamped with buildVersion and
// buildRevision, packaged as debVersion.
const (
	buildVersion  = "v1.2.3"
	buildRevision = "abc1234"
	debVersion    = "1.2.3"
)

var (
	repo    string // the repository root
	scratch string // removed after the tests

	buildOnce sync.Once
	built     struct {
		bin, agentDeb, serverDeb string
		err                      error
	}
)

func TestMain(m *testing.M) {
	var err error
	if repo, err = filepath.Abs("../.."); err == nil {
		scratch, err = os.MkdirTemp("", "pkgtest")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(scratch)
	os.Exit(code)
}

// packages builds both programs with make build and both .deb files with
// packaging/package.sh, once for all tests.
func packages(t *testing.T) (bin, agentDeb, serverDeb string) {
	t.Helper()
	for _, p := range []string{"make", "git", "objdump"} {
		testenv.LookPath(t, p)
	}
	buildOnce.Do(func() {
		bin, dist := filepath.Join(scratch, "bin"), filepath.Join(scratch, "dist")
		built.bin = bin
		build := exec.Command("make", "-s", "-C", repo, "build", "BIN="+bin, "VERSION="+buildVersion, "REVISION="+buildRevision)
		if out, err := build.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("make build: %v\n%s", err, out)
			return
		}
		pkg := exec.Command(filepath.Join(repo, "packaging", "package.sh"))
		pkg.Env = append(os.Environ(), "BIN_DIR="+bin, "DIST_DIR="+dist, "VERSION="+buildVersion)
		out, err := pkg.CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("package.sh: %v\n%s", err, out)
			return
		}
		built.serverDeb = filepath.Join(dist, "gpuwd_"+debVersion+"_amd64.deb")
		built.agentDeb = filepath.Join(dist, "gpuwd-agent_"+debVersion+"_amd64.deb")
		if want := built.serverDeb + "\n" + built.agentDeb + "\n"; string(out) != want {
			built.err = fmt.Errorf("package.sh printed %q, want %q", out, want)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin, built.agentDeb, built.serverDeb
}

// run runs a program and returns its standard output; the test fails when
// it fails.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// repoFile reads a file of the repository.
func repoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
