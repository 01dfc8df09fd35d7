package gpu

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// LabelNames are the labels of every per-GPU series, in dcgm-exporter's
// spelling (lower-case hostname, as dcgm-exporter has used since 2026).
var LabelNames = []string{"gpu", "UUID", "pci_bus_id", "device", "modelName", "hostname", "DCGM_FI_DRIVER_VERSION"}

// GPU is one physical GPU: its handle and the identity read once at discovery.
type GPU struct {
	Index            int
	Device           nvml.Device // nil while the handle cannot be obtained
	UUID             string
	Name             string
	PCIBusID         string
	DeviceFile       string // "nvidia0", the /dev node's name
	MemoryTotalBytes uint64
	VBIOSVersion     string
	Serial           string
	Architecture     string

	// Labels holds the values of LabelNames, in order.
	Labels []string

	lost     atomic.Bool
	lostWhy  atomic.Value // string
	hostname string
	driver   string
}

// Up reports whether the GPU answered in the last sampling cycle.
func (g *GPU) Up() bool { return g.Device != nil && !g.lost.Load() }

// DownReason says why the GPU is not up ("" when it is).
func (g *GPU) DownReason() string {
	if g.Up() {
		return ""
	}
	if s, _ := g.lostWhy.Load().(string); s != "" {
		return s
	}
	return "no device handle"
}

// MarkLost records that NVML reported the GPU gone (ERROR_GPU_IS_LOST) or
// otherwise unreachable; it stays down until MarkFound.
func (g *GPU) MarkLost(why string) {
	g.lostWhy.Store(why)
	g.lost.Store(true)
}

// MarkFound clears a previous MarkLost.
func (g *GPU) MarkFound() { g.lost.Store(false) }

// Check classifies the result of one NVML call on g. It returns true when
// the value may be used. ERROR_NOT_SUPPORTED and its kin give (false, nil):
// the field is simply absent. ERROR_GPU_IS_LOST marks g lost and gives
// (false, nil): gpuwd_gpu_up carries that. Anything else is an error naming
// the GPU and the call.
func (g *GPU) Check(what string, ret nvml.Return) (bool, error) {
	switch {
	case ret == nvml.SUCCESS:
		return true, nil
	case Absent(ret):
		return false, nil
	case ret == nvml.ERROR_GPU_IS_LOST:
		g.MarkLost(what + ": " + ErrorString(ret))
		return false, nil
	}
	return false, fmt.Errorf("gpu %d: %s: %s", g.Index, what, ErrorString(ret))
}

// Discover finds every GPU lib reports. A GPU whose handle cannot be
// obtained is still listed, down, so it shows as gpuwd_gpu_up 0 rather than
// vanishing; Reacquire tries again later.
func Discover(lib *Library, hostname string) ([]*GPU, error) {
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("device count: %s", ErrorString(ret))
	}
	gpus := make([]*GPU, n)
	for i := range gpus {
		g := &GPU{Index: i, hostname: hostname, driver: lib.DriverVersion}
		g.Reacquire(lib)
		gpus[i] = g
	}
	return gpus, nil
}

// Reacquire obtains g's handle and identity if it has none yet.
func (g *GPU) Reacquire(lib nvml.Interface) {
	if g.Device != nil {
		return
	}
	dev, ret := lib.DeviceGetHandleByIndex(g.Index)
	if ret != nvml.SUCCESS {
		g.MarkLost("handle: " + ErrorString(ret))
		if g.Labels == nil {
			g.setLabels()
		}
		return
	}
	g.Device = dev
	g.readIdentity()
	g.MarkFound()
	g.setLabels()
}

func (g *GPU) readIdentity() {
	d := g.Device
	if v, ret := d.GetUUID(); ret == nvml.SUCCESS {
		g.UUID = v
	}
	if v, ret := d.GetName(); ret == nvml.SUCCESS {
		g.Name = v
	}
	if v, ret := d.GetPciInfo(); ret == nvml.SUCCESS {
		g.PCIBusID = cString(v.BusId[:])
		if g.PCIBusID == "" { // some drivers and mocks fill only the numbers
			g.PCIBusID = fmt.Sprintf("%08X:%02X:%02X.0", v.Domain, v.Bus, v.Device)
		}
	}
	if v, ret := d.GetMinorNumber(); ret == nvml.SUCCESS {
		g.DeviceFile = "nvidia" + strconv.Itoa(v)
	}
	if v, ret := d.GetMemoryInfo(); ret == nvml.SUCCESS {
		g.MemoryTotalBytes = v.Total
	}
	if v, ret := d.GetVbiosVersion(); ret == nvml.SUCCESS {
		g.VBIOSVersion = v
	}
	if v, ret := d.GetSerial(); ret == nvml.SUCCESS {
		g.Serial = v
	}
	if v, ret := d.GetArchitecture(); ret == nvml.SUCCESS {
		g.Architecture = ArchitectureName(v)
	}
}

func (g *GPU) setLabels() {
	g.Labels = []string{strconv.Itoa(g.Index), g.UUID, g.PCIBusID, g.DeviceFile, g.Name, g.hostname, g.driver}
}

// ArchitectureName names an NVML architecture code.
func ArchitectureName(a nvml.DeviceArchitecture) string {
	switch a {
	case nvml.DEVICE_ARCH_KEPLER:
		return "kepler"
	case nvml.DEVICE_ARCH_MAXWELL:
		return "maxwell"
	case nvml.DEVICE_ARCH_PASCAL:
		return "pascal"
	case nvml.DEVICE_ARCH_VOLTA:
		return "volta"
	case nvml.DEVICE_ARCH_TURING:
		return "turing"
	case nvml.DEVICE_ARCH_AMPERE:
		return "ampere"
	case nvml.DEVICE_ARCH_ADA:
		return "ada"
	case nvml.DEVICE_ARCH_HOPPER:
		return "hopper"
	case nvml.DEVICE_ARCH_BLACKWELL:
		return "blackwell"
	case nvml.DEVICE_ARCH_RUBIN:
		return "rubin"
	}
	return "unknown"
}

// cString turns a NUL-terminated C char array into a Go string.
func cString[T int8 | uint8](b []T) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}
