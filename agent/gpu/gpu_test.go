package gpu

import (
	"errors"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
)

func TestOpenWithoutDriverNeverCallsNVMLAgain(t *testing.T) {
	lib := &mock.Interface{
		InitFunc: func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND },
		// Any other call would panic here, as it kills the process with the real library.
	}
	_, err := Open(lib)
	if !errors.Is(err, ErrNoNVML) || !strings.Contains(err.Error(), "libnvidia-ml.so.1 not found") {
		t.Fatalf("err = %v", err)
	}
	if n := len(lib.ShutdownCalls()) + len(lib.DeviceGetCountCalls()); n != 0 {
		t.Errorf("%d NVML calls after a failed Init", n)
	}
}

func TestOpenTheRealLibraryWithoutADriver(t *testing.T) {
	_, err := Open(nvml.New(nvml.WithLibraryPath("/nonexistent/libnvidia-ml.so.1")))
	if !errors.Is(err, ErrNoNVML) || !strings.Contains(err.Error(), "ERROR_LIBRARY_NOT_FOUND") {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckClassifiesReturns(t *testing.T) {
	g := &GPU{Index: 3, Device: &mock.Device{}}
	if ok, err := g.Check("x", nvml.SUCCESS); !ok || err != nil {
		t.Error("SUCCESS")
	}
	if ok, err := g.Check("fan", nvml.ERROR_NOT_SUPPORTED); ok || err != nil {
		t.Error("NOT_SUPPORTED is absent, not an error")
	}
	if _, err := g.Check("power", nvml.ERROR_UNKNOWN); err == nil || err.Error() != "gpu 3: power: ERROR_UNKNOWN" {
		t.Errorf("err = %v", err)
	}
	if !g.Up() {
		t.Fatal("up before being lost")
	}
	if ok, err := g.Check("temperature", nvml.ERROR_GPU_IS_LOST); ok || err != nil || g.Up() {
		t.Error("GPU_IS_LOST marks the GPU down without an error")
	}
	if g.DownReason() != "temperature: ERROR_GPU_IS_LOST" {
		t.Errorf("reason = %q", g.DownReason())
	}
}
