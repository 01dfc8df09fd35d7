package gpu

import (
	"errors"
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// Library is an initialised NVML library. Close it once; it is never used
// after a failed Open, because go-nvml terminates the process on any call
// (Shutdown included) that follows a failed Init.
type Library struct {
	nvml.Interface
	DriverVersion string
	CUDAVersion   string // "12.4"; empty when NVML does not say
}

// ErrNoNVML wraps every reason NVML could not be opened.
var ErrNoNVML = errors.New("NVML unavailable")

// Open initialises lib. On failure it returns an error wrapping ErrNoNVML that
// says why (no driver library, driver not loaded, no permission, …), and lib
// must not be touched again.
func Open(lib nvml.Interface) (*Library, error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("%w: init: %s%s", ErrNoNVML, ErrorString(ret), initHint(ret))
	}
	l := &Library{Interface: lib}
	if v, ret := lib.SystemGetDriverVersion(); ret == nvml.SUCCESS {
		l.DriverVersion = v
	}
	if v, ret := lib.SystemGetCudaDriverVersion(); ret == nvml.SUCCESS && v > 0 {
		l.CUDAVersion = fmt.Sprintf("%d.%d", v/1000, v%1000/10)
	}
	return l, nil
}

// Has reports whether the loaded NVML exports symbol. go-nvml resolves
// symbols only when called, and calling one that an older driver lacks ends
// the process ("symbol lookup error"), so collectors check newer calls first.
func (l *Library) Has(symbol string) bool {
	return l.Extensions().LookupSymbol(symbol) == nil
}

// Close shuts NVML down.
func (l *Library) Close() error {
	if ret := l.Shutdown(); ret != nvml.SUCCESS {
		return fmt.Errorf("nvml shutdown: %s", ErrorString(ret))
	}
	return nil
}

func initHint(ret nvml.Return) string {
	switch ret {
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return " (libnvidia-ml.so.1 not found: no NVIDIA driver on this host, or the container was started without the NVIDIA runtime)"
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return " (the NVIDIA kernel driver is not loaded)"
	case nvml.ERROR_NO_PERMISSION:
		return " (no permission to open /dev/nvidia*)"
	}
	return ""
}
