package collector

import (
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

// newMockServer is go-nvml's DGX A100 mock server with every reading the
// collectors make answered; tests then break what they test.
func newMockServer() *dgxa100.Server {
	srv := dgxa100.New()
	for i, d := range srv.Devices {
		dev := d.(*dgxa100.Device)
		temp := uint32(40 + i)
		bus := strings.ToUpper("0000" + dev.PciBusID)
		dev.GetPciInfoFunc = func() (nvml.PciInfo, nvml.Return) {
			var p nvml.PciInfo
			for j := range len(bus) {
				p.BusId[j] = int8(bus[j])
			}
			return p, nvml.SUCCESS
		}
		dev.GetVbiosVersionFunc = func() (string, nvml.Return) { return "92.00.45.00.03", nvml.SUCCESS }
		dev.GetSerialFunc = func() (string, nvml.Return) { return "1560221000001", nvml.SUCCESS }
		dev.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
			return nvml.Utilization{Gpu: uint32(10 * i), Memory: uint32(5 * i)}, nvml.SUCCESS
		}
		dev.GetEncoderUtilizationFunc = func() (uint32, uint32, nvml.Return) { return 0, 1000, nvml.SUCCESS }
		dev.GetDecoderUtilizationFunc = func() (uint32, uint32, nvml.Return) { return 0, 1000, nvml.SUCCESS }
		dev.GetMemoryInfo_v2Func = func() (nvml.Memory_v2, nvml.Return) {
			return nvml.Memory_v2{Total: 40 << 30, Reserved: 512 << 20, Used: 1 << 30, Free: 40<<30 - 512<<20 - 1<<30}, nvml.SUCCESS
		}
		dev.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return temp, nvml.SUCCESS }
		dev.GetFieldValuesFunc = func(v []nvml.FieldValue) nvml.Return {
			for j := range v {
				v[j].NvmlReturn = uint32(nvml.ERROR_NOT_SUPPORTED)
			}
			return nvml.SUCCESS
		}
		dev.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 123456, nvml.SUCCESS }
		dev.GetTotalEnergyConsumptionFunc = func() (uint64, nvml.Return) { return 987654321, nvml.SUCCESS }
		dev.GetEnforcedPowerLimitFunc = func() (uint32, nvml.Return) { return 400000, nvml.SUCCESS }
		dev.GetClockInfoFunc = func(nvml.ClockType) (uint32, nvml.Return) { return 1410, nvml.SUCCESS }
		dev.GetSupportedClocksEventReasonsFunc = func() (uint64, nvml.Return) { return 0x1ff, nvml.SUCCESS }
		dev.GetCurrentClocksEventReasonsFunc = func() (uint64, nvml.Return) { return nvml.ClocksEventReasonGpuIdle, nvml.SUCCESS }
		dev.GetPcieReplayCounterFunc = func() (int, nvml.Return) { return 2, nvml.SUCCESS }
		dev.GetFanSpeedFunc = func() (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
		dev.GetPerformanceStateFunc = func() (nvml.Pstates, nvml.Return) { return nvml.PSTATE_0, nvml.SUCCESS }
		dev.GetTotalEccErrorsFunc = func(nvml.MemoryErrorType, nvml.EccCounterType) (uint64, nvml.Return) { return 0, nvml.SUCCESS }
		dev.GetRemappedRowsFunc = func() (int, int, bool, bool, nvml.Return) { return 0, 0, false, false, nvml.SUCCESS }
		dev.GetNvLinkStateFunc = func(link int) (nvml.EnableState, nvml.Return) {
			if link >= 12 {
				return 0, nvml.ERROR_INVALID_ARGUMENT
			}
			return nvml.FEATURE_ENABLED, nvml.SUCCESS
		}
		dev.RegisterEventsFunc = func(uint64, nvml.EventSet) nvml.Return { return nvml.SUCCESS }
		dev.GpmQueryDeviceSupportFunc = func() (nvml.GpmSupport, nvml.Return) { return nvml.GpmSupport{}, nvml.SUCCESS }
	}
	srv.EventSetCreateFunc = func() (nvml.EventSet, nvml.Return) {
		return &mock.EventSet{
			WaitFunc: func(timeout uint32) (nvml.EventData, nvml.Return) {
				time.Sleep(time.Millisecond)
				return nvml.EventData{}, nvml.ERROR_TIMEOUT
			},
			FreeFunc: func() nvml.Return { return nvml.SUCCESS },
		}, nvml.SUCCESS
	}
	return srv
}

func device(srv *dgxa100.Server, i int) *dgxa100.Device { return srv.Devices[i].(*dgxa100.Device) }

// machine is a collector Set over a mock server, ready to gather.
type machine struct {
	t    *testing.T
	set  *Set
	gpus []*gpu.GPU
	reg  *prometheus.Registry
}

func newMachine(t *testing.T, srv nvml.Interface, enabled []string) *machine {
	t.Helper()
	lib, err := gpu.Open(srv)
	if err != nil {
		t.Fatal(err)
	}
	gpus, err := gpu.Discover(lib, "node-1")
	if err != nil {
		t.Fatal(err)
	}
	set, err := NewSet(Deps{Logger: slog.New(slog.DiscardHandler), Lib: lib, GPUs: gpus}, enabled)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(set.Close)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(set)
	return &machine{t: t, set: set, gpus: gpus, reg: reg}
}

// sample is one gathered cycle, indexed by metric name.
type sample map[string][]*dto.Metric

func (m *machine) sample() sample {
	m.t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		m.t.Fatalf("gather: %v", err)
	}
	s := sample{}
	for _, f := range fams {
		s[f.GetName()] = f.Metric
	}
	return s
}

// value returns the value of the series of name whose labels include want
// (name=value pairs), and whether there is one.
func (s sample) value(name string, want ...string) (float64, bool) {
	for _, m := range s[name] {
		if hasLabels(m, want...) {
			switch {
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Untyped != nil:
				return m.Untyped.GetValue(), true
			}
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, want ...string) bool {
	for i := 0; i+1 < len(want); i += 2 {
		found := false
		for _, l := range m.Label {
			if l.GetName() == want[i] && l.GetValue() == want[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (s sample) names() []string {
	var out []string
	for n := range s {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (s sample) mustValue(t *testing.T, name string, want ...string) float64 {
	t.Helper()
	v, ok := s.value(name, want...)
	if !ok {
		t.Fatalf("no %s{%s}; have %s", name, strings.Join(want, ","), strings.Join(s.names(), " "))
	}
	return v
}

// eventChan is an NVML event set fed by the test.
type eventChan chan nvml.EventData

func (c eventChan) Wait(timeout uint32) (nvml.EventData, nvml.Return) {
	select {
	case ev := <-c:
		return ev, nvml.SUCCESS
	case <-time.After(time.Duration(timeout) * time.Millisecond):
		return nvml.EventData{}, nvml.ERROR_TIMEOUT
	}
}

func (c eventChan) Free() nvml.Return { return nvml.SUCCESS }
