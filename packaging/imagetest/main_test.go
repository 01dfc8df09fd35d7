package imagetest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// What one test run builds, once, on first use: the tests that need no
// image (lint) build nothing.
type images struct {
	docker  *dockerCLI
	repo    string // the module's root
	context string // the build context: bin/ and packaging/image/
	base    string // the local stand-in for RunPod's base image
	agent   string // Dockerfile.agent
	gpuwd   string // packaging/gpuwd.Dockerfile
	version string // the images' version label (the binaries carry binaryVersion)
	// mungeKey is a key for the test clusters, from gpuwd-agent munge-key.
	mungeKey string
	// cacheBefore is the build cache before this run built anything.
	cacheBefore map[string]bool
}

var (
	setupOnce sync.Once
	built     *images
	setupErr  error  // a failure: the tests fail
	missing   string // a missing component: the tests skip, or fail under CI
)

// runID names and labels everything this run creates. The pid lets a later
// run remove what a killed run left (see removeLeftovers).
var runID = func() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b)
}()

// podName names a container of this run (also its hostname and Slurm
// node name): unique on the machine, short enough to read in sinfo.
func podName(role string) string {
	_, suffix, _ := strings.Cut(runID, "-")
	return "gwd" + suffix + "-" + role
}

// Labels on every container, network and image a run makes.
const (
	labelRun = "gpuwd.imagetest.run"
	labelPid = "gpuwd.imagetest.pid"
)

func labelArgs() []string {
	return []string{"--label", labelRun + "=" + runID, "--label", labelPid + "=" + strconv.Itoa(os.Getpid())}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built != nil {
		built.docker.removeRun(runID)
		built.docker.pruneCacheSince(built.cacheBefore)
	}
	os.Exit(code)
}

// need returns the images, building them on first use; it ends the test
// when they cannot be had.
func need(t testing.TB) *images {
	t.Helper()
	setupOnce.Do(func() { setupErr = setup() })
	switch {
	case missing != "":
		testenv.Missing(t, missing)
	case setupErr != nil:
		t.Fatal(setupErr)
	}
	return built
}

// setup finds docker, builds the binaries on this machine, the base image
// (packaging/image/build-base.sh, cached), and the two images from them.
// It sets built as soon as docker is found, so that TestMain removes what
// it made even when a step fails.
func setup() error {
	if os.Geteuid() != 0 {
		missing = "the image tests need root (debootstrap)"
		return nil
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		missing = "debootstrap not found (apt-get install debootstrap)"
		return nil
	}
	docker, why := findDocker()
	if docker == nil {
		missing = why
		return nil
	}
	docker.removeLeftovers()
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(repo, "go.mod")); err != nil {
		return fmt.Errorf("module root not found from %s: %w", repo, err)
	}
	img := &images{docker: docker, repo: repo, version: "imagetest-" + runID, cacheBefore: docker.cacheIDs()}
	built = img
	img.context, err = os.MkdirTemp("", "gpuwd-imagetest-")
	if err != nil {
		return err
	}
	// Removed at once: the images hold what they need.
	defer os.RemoveAll(img.context)
	if err := buildBinaries(img.repo, filepath.Join(img.context, "bin"), binaryVersion); err != nil {
		return err
	}
	if err := copyDir(filepath.Join(repo, "packaging", "image"), filepath.Join(img.context, "packaging", "image")); err != nil {
		return err
	}
	out, err := exec.Command(filepath.Join(img.context, "bin", "gpuwd-agent"), "munge-key").Output()
	if err != nil {
		return fmt.Errorf("gpuwd-agent munge-key: %w", err)
	}
	img.mungeKey = strings.TrimSpace(string(out))

	img.base = "gpuwd-imagetest-base:" + runID
	build := exec.Command(filepath.Join(repo, "packaging", "image", "build-base.sh"),
		"-l", labelRun+"="+runID, "-l", labelPid+"="+strconv.Itoa(os.Getpid()), img.base)
	build.Env = append(os.Environ(), "DOCKER="+docker.path)
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build-base.sh: %v\n%s", err, out)
	}
	// A GO_IMAGE that cannot be pulled: the builds prove that BuildKit
	// never touches the Go stage when the binary is prebuilt.
	common := []string{"--build-arg", "GO_IMAGE=gpuwd-imagetest.invalid/never-pulled:" + runID,
		"--build-arg", "VERSION=" + img.version, "--build-arg", "REVISION=" + runID}
	img.agent = "gpuwd-imagetest-agent:" + runID
	if err := docker.build(img.context, filepath.Join(repo, "Dockerfile.agent"), img.agent,
		append(common, "--build-arg", "AGENT_FROM=prebuilt", "--build-arg", "BASE_IMAGE="+img.base)...); err != nil {
		return err
	}
	img.gpuwd = "gpuwd-imagetest-gpuwd:" + runID
	if err := docker.build(img.context, filepath.Join(repo, "packaging", "gpuwd.Dockerfile"), img.gpuwd,
		append(common, "--build-arg", "GPUWD_FROM=prebuilt", "--build-arg", "BASE_IMAGE="+img.base)...); err != nil {
		return err
	}
	return nil
}

// binaryVersion is stamped into the binaries. It is the same in every run,
// so that unchanged source gives the same binaries and image layers: the
// go and BuildKit caches then serve them instead of growing each run.
const binaryVersion = "imagetest"

// buildBinaries builds both programs of the module in repo into dir, as the
// Makefile's build target does, stamped with version (and binaryVersion as
// the revision).
func buildBinaries(repo, dir, version string) error {
	ldflags := "-s -w -X main.version=" + version + " -X main.revision=" + binaryVersion
	for _, b := range []struct{ name, cgo string }{{"gpuwd-agent", "1"}, {"gpuwd", "0"}} {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags,
			"-o", filepath.Join(dir, b.name), "./cmd/"+b.name)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo, "CGO_CFLAGS=-O2 -g -Wno-deprecated-declarations",
			"GOOS=linux", "GOARCH="+runtime.GOARCH)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", b.name, err, out)
		}
	}
	return nil
}

// copyDir copies the regular files of src (one level: the scripts) into
// dst, keeping their modes.
func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, info.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}
