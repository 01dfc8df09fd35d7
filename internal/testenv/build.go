package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildAgent builds gpuwd-agent (cgo, for NVML) into dir and returns its
// path: for a TestMain whose tests run the real agent.
func BuildAgent(dir string) (string, error) {
	bin := filepath.Join(dir, "gpuwd-agent")
	build := exec.Command("go", "build", "-o", bin, "github.com/gpu-watchdog/gpu-watchdog/cmd/gpuwd-agent")
	build.Env = append(os.Environ(), "CGO_ENABLED=1", "CGO_CFLAGS=-Wno-deprecated-declarations")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building gpuwd-agent: %v\n%s", err, out)
	}
	return bin, nil
}

// BuildGpuwd builds gpuwd (pure Go) into dir and returns its path: for a
// TestMain whose tests run the real aggregator.
func BuildGpuwd(dir string) (string, error) {
	bin := filepath.Join(dir, "gpuwd")
	build := exec.Command("go", "build", "-o", bin, "github.com/gpu-watchdog/gpu-watchdog/cmd/gpuwd")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building gpuwd: %v\n%s", err, out)
	}
	return bin, nil
}
