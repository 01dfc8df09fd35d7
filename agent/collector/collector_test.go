package collector

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
)

func TestDefaultCollectorsReadEveryGPU(t *testing.T) {
	m := newMachine(t, newMockServer(), nil)
	s := m.sample()
	if got := s.mustValue(t, "DCGM_FI_DEV_GPU_UTIL", "gpu", "3", "hostname", "node-1"); got != 30 {
		t.Errorf("GPU_UTIL gpu 3 = %v, want 30", got)
	}
	if got := s.mustValue(t, "DCGM_FI_DEV_FB_USED", "gpu", "0"); got != 1024 {
		t.Errorf("FB_USED = %v MiB, want 1024", got)
	}
	if got := s.mustValue(t, "DCGM_FI_DEV_POWER_USAGE", "gpu", "0"); got != 123.456 {
		t.Errorf("POWER_USAGE = %v W, want 123.456", got)
	}
	if got := s.mustValue(t, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "gpu", "7"); got != 987654321 {
		t.Errorf("energy = %v mJ", got)
	}
	if got := s.mustValue(t, "gpuwd_power_limit_watts", "gpu", "1"); got != 400 {
		t.Errorf("power limit = %v W, want 400", got)
	}
	if s.mustValue(t, "gpuwd_clock_event_active", "gpu", "2", "reason", "gpu_idle") != 1 ||
		s.mustValue(t, "gpuwd_clock_event_active", "gpu", "2", "reason", "hw_thermal_slowdown") != 0 {
		t.Error("clock event reasons not decoded")
	}
	if got := s.mustValue(t, "gpuwd_nvlink_links_active", "gpu", "5"); got != 12 {
		t.Errorf("nvlink links = %v, want 12", got)
	}
	if got := s.mustValue(t, "DCGM_FI_DEV_XID_ERRORS", "gpu", "6"); got != 0 {
		t.Errorf("last XID with none seen = %v, want 0", got)
	}
	for i := range 8 {
		if s.mustValue(t, "gpuwd_gpu_up", "gpu", string(rune('0'+i))) != 1 {
			t.Errorf("gpu %d not up", i)
		}
	}
	for _, c := range s["gpuwd_collector_success"] {
		if c.Gauge.GetValue() != 1 {
			t.Errorf("collector %s failed", c.Label[0].GetValue())
		}
	}
	// dcgm-exporter's label set, with the model and driver.
	labels := map[string]string{}
	for _, l := range s["DCGM_FI_DEV_GPU_TEMP"][0].Label {
		labels[l.GetName()] = l.GetValue()
	}
	for _, name := range []string{"gpu", "UUID", "pci_bus_id", "device", "modelName", "hostname", "DCGM_FI_DRIVER_VERSION"} {
		if labels[name] == "" {
			t.Errorf("label %s missing or empty: %v", name, labels)
		}
	}
	if labels["modelName"] != "Mock NVIDIA A100-SXM4-40GB" || labels["DCGM_FI_DRIVER_VERSION"] != "550.54.15" {
		t.Errorf("labels = %v", labels)
	}
}

func TestNotSupportedFieldsAreAbsentNotErrors(t *testing.T) {
	srv := newMockServer() // no fan, no memory temperature, no GPM
	device(srv, 0).GetTotalEccErrorsFunc = func(nvml.MemoryErrorType, nvml.EccCounterType) (uint64, nvml.Return) {
		return 0, nvml.ERROR_NOT_SUPPORTED
	}
	s := newMachine(t, srv, nil).sample()
	for _, name := range []string{"gpuwd_fan_speed_ratio", "DCGM_FI_DEV_MEMORY_TEMP", "DCGM_FI_PROF_SM_ACTIVE"} {
		if len(s[name]) != 0 {
			t.Errorf("%s present although NVML said NOT_SUPPORTED", name)
		}
	}
	if _, ok := s.value("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "gpu", "0"); ok {
		t.Error("ECC series for a GPU without ECC")
	}
	if _, ok := s.value("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "gpu", "1"); !ok {
		t.Error("ECC series missing for a GPU with ECC")
	}
	for _, c := range []string{"fan", "temperature", "gpm", "ecc"} {
		if s.mustValue(t, "gpuwd_collector_success", "collector", c) != 1 {
			t.Errorf("collector %s failed on NOT_SUPPORTED", c)
		}
	}
}

func TestLostGPUIsReportedDownNotDropped(t *testing.T) {
	srv := newMockServer()
	lost := device(srv, 2)
	lostFn := func() (uint64, nvml.Return) { return 0, nvml.ERROR_GPU_IS_LOST }
	lost.GetSupportedClocksEventReasonsFunc = lostFn
	lost.GetCurrentClocksEventReasonsFunc = lostFn
	lost.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) { return nvml.Utilization{}, nvml.ERROR_GPU_IS_LOST }
	lost.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 0, nvml.ERROR_GPU_IS_LOST }
	// GPU 5 is already gone when the agent starts.
	getHandle := srv.DeviceGetHandleByIndexFunc
	srv.DeviceGetHandleByIndexFunc = func(i int) (nvml.Device, nvml.Return) {
		if i == 5 {
			return nil, nvml.ERROR_GPU_IS_LOST
		}
		return getHandle(i)
	}
	m := newMachine(t, srv, nil)
	s := m.sample()
	for gpu, want := range map[string]float64{"1": 1, "2": 0, "5": 0} {
		if got := s.mustValue(t, "gpuwd_gpu_up", "gpu", gpu); got != want {
			t.Errorf("gpuwd_gpu_up{gpu=%s} = %v, want %v", gpu, got, want)
		}
	}
	if _, ok := s.value("DCGM_FI_DEV_GPU_UTIL", "gpu", "2"); ok {
		t.Error("readings reported for a lost GPU")
	}
	if _, ok := s.value("DCGM_FI_DEV_GPU_UTIL", "gpu", "3"); !ok {
		t.Error("a lost GPU took the others' readings with it")
	}
	if s.mustValue(t, "gpuwd_collector_success", "collector", "utilization") != 1 {
		t.Error("a lost GPU is gpuwd_gpu_up 0, not a collector failure")
	}
	if why := m.gpus[2].DownReason(); !strings.Contains(why, "ERROR_GPU_IS_LOST") {
		t.Errorf("down reason = %q", why)
	}
}

func TestFailingCollectorDoesNotStopTheOthers(t *testing.T) {
	srv := newMockServer()
	device(srv, 1).GetPowerUsageFunc = func() (uint32, nvml.Return) { return 0, nvml.ERROR_UNKNOWN }
	device(srv, 4).GetPcieReplayCounterFunc = nil // the mock panics when called
	s := newMachine(t, srv, nil).sample()
	if s.mustValue(t, "gpuwd_collector_success", "collector", "power") != 0 {
		t.Error("power collector should report failure")
	}
	if s.mustValue(t, "gpuwd_collector_success", "collector", "pcie") != 0 {
		t.Error("a panicking collector should report failure")
	}
	if _, ok := s.value("DCGM_FI_DEV_POWER_USAGE", "gpu", "0"); !ok {
		t.Error("the other GPUs' power readings were lost")
	}
	if _, ok := s.value("gpuwd_power_limit_watts", "gpu", "1"); !ok {
		t.Error("the failing GPU's other power readings were lost")
	}
	if s.mustValue(t, "gpuwd_collector_success", "collector", "temperature") != 1 {
		t.Error("an unrelated collector failed")
	}
}

func TestXIDEventsAreCountedPerCode(t *testing.T) {
	srv := newMockServer()
	events := make(eventChan, 8)
	srv.EventSetCreateFunc = func() (nvml.EventSet, nvml.Return) { return events, nvml.SUCCESS }
	when := time.Unix(1_800_000_000, 500_000_000)
	m := newMachine(t, srv, []string{"xid"})
	m.set.collectors[0].(*xid).now = func() time.Time { return when }
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m.set.Start(ctx)

	for _, code := range []uint64{79, 48, 79} {
		events <- nvml.EventData{Device: srv.Devices[4], EventType: nvml.EventTypeXidCriticalError, EventData: code}
	}
	deadline := time.Now().Add(10 * time.Second)
	var s sample
	for {
		s = m.sample()
		if v, _ := s.value("gpuwd_xid_errors_total", "gpu", "4", "xid", "79"); v == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("XID events not counted: %v", s["gpuwd_xid_errors_total"])
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := s.mustValue(t, "gpuwd_xid_errors_total", "gpu", "4", "xid", "48"); got != 1 {
		t.Errorf("xid 48 count = %v", got)
	}
	if got := s.mustValue(t, "DCGM_FI_DEV_XID_ERRORS", "gpu", "4"); got != 79 {
		t.Errorf("last XID = %v, want 79", got)
	}
	if got := s.mustValue(t, "gpuwd_xid_last_timestamp_seconds", "gpu", "4", "xid", "79"); got != 1_800_000_000.5 {
		t.Errorf("last XID time = %v", got)
	}
	if got := s.mustValue(t, "DCGM_FI_DEV_XID_ERRORS", "gpu", "0"); got != 0 {
		t.Errorf("XID on the wrong GPU: %v", got)
	}
}

func TestMIGInstances(t *testing.T) {
	srv := newMockServer()
	enableMIG(device(srv, 0), func(i int) *mock.Device {
		return &mock.Device{
			GetGpuInstanceIdFunc:     func() (int, nvml.Return) { return 10 + i, nvml.SUCCESS },
			GetComputeInstanceIdFunc: func() (int, nvml.Return) { return 0, nvml.SUCCESS },
			GetUUIDFunc:              func() (string, nvml.Return) { return "MIG-test", nvml.SUCCESS },
			GetNameFunc:              func() (string, nvml.Return) { return "NVIDIA A100-SXM4-40GB MIG 3g.20gb", nvml.SUCCESS },
			GetMemoryInfoFunc: func() (nvml.Memory, nvml.Return) {
				return nvml.Memory{Total: 20 << 30, Used: 3 << 30}, nvml.SUCCESS
			},
		}
	})
	s := newMachine(t, srv, []string{"mig"}).sample()
	if s.mustValue(t, "gpuwd_mig_mode_enabled", "gpu", "0") != 1 || s.mustValue(t, "gpuwd_mig_mode_enabled", "gpu", "1") != 0 {
		t.Error("MIG mode wrong")
	}
	if got := len(s["gpuwd_mig_instance_info"]); got != 2 {
		t.Errorf("%d MIG instances, want 2", got)
	}
	if got := s.mustValue(t, "gpuwd_mig_fb_used_bytes", "gpu", "0", "GPU_I_ID", "11", "GPU_I_PROFILE", "3g.20gb"); got != 3<<30 {
		t.Errorf("MIG memory used = %v", got)
	}
}

func TestProcessesSumPerPID(t *testing.T) {
	srv := newMockServer()
	for i := range srv.Devices {
		device(srv, i).GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) { return nil, nvml.SUCCESS }
	}
	device(srv, 3).GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
		return []nvml.ProcessInfo{{Pid: 7, UsedGpuMemory: 1 << 30}, {Pid: 7, UsedGpuMemory: 1 << 30}, {Pid: 9, UsedGpuMemory: valueNotAvailable}}, nvml.SUCCESS
	}
	srv.SystemGetProcessNameFunc = func(pid int) (string, nvml.Return) { return "python3", nvml.SUCCESS }
	s := newMachine(t, srv, []string{"processes"}).sample()
	if got := s.mustValue(t, "gpuwd_process_fb_used_bytes", "gpu", "3", "pid", "7", "process_name", "python3"); got != 2<<30 {
		t.Errorf("pid 7 memory = %v, want 2 GiB", got)
	}
	if got := s.mustValue(t, "gpuwd_gpu_processes", "gpu", "3"); got != 2 {
		t.Errorf("process count = %v, want 2", got)
	}
	if got := s.mustValue(t, "gpuwd_gpu_processes", "gpu", "0"); got != 0 {
		t.Errorf("idle GPU process count = %v, want an explicit 0", got)
	}
}

func TestUnknownCollectorIsAClearError(t *testing.T) {
	_, err := NewSet(Deps{}, []string{"utilisation"})
	if err == nil || !strings.Contains(err.Error(), `unknown collector "utilisation"`) || !strings.Contains(err.Error(), "utilization") {
		t.Fatalf("err = %v", err)
	}
}

func TestNVLinkCountersSpanEveryLink(t *testing.T) {
	srv := newMockServer()
	d := device(srv, 0)
	d.GetNvLinkStateFunc = func(link int) (nvml.EnableState, nvml.Return) {
		switch {
		case link >= 4:
			return 0, nvml.ERROR_INVALID_ARGUMENT
		case link == 2:
			return nvml.FEATURE_DISABLED, nvml.SUCCESS // down: its errors still count
		}
		return nvml.FEATURE_ENABLED, nvml.SUCCESS
	}
	d.GetFieldValuesFunc = func(v []nvml.FieldValue) nvml.Return {
		for i := range v {
			f := &v[i]
			var x uint64
			switch f.FieldId {
			case nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX, nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_RX:
				if f.ScopeId != allLinks {
					f.NvmlReturn = uint32(nvml.ERROR_INVALID_ARGUMENT) // the test wants the aggregate
					continue
				}
				x = 100
			case nvml.FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL:
				x = uint64(f.ScopeId) + 1 // link N has N+1 errors
			default:
				x = 0
			}
			f.ValueType = uint32(nvml.VALUE_TYPE_UNSIGNED_LONG_LONG)
			binary.LittleEndian.PutUint64(f.Value[:], x)
			f.NvmlReturn = uint32(nvml.SUCCESS)
		}
		return nvml.SUCCESS
	}
	s := newMachine(t, srv, []string{"nvlink"}).sample()
	if got := s.mustValue(t, "gpuwd_nvlink_links_active", "gpu", "0"); got != 3 {
		t.Errorf("active links = %v, want 3", got)
	}
	if got := s.mustValue(t, "DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", "gpu", "0"); got != 1+2+3+4 {
		t.Errorf("CRC flit errors = %v, want the sum over all 4 links (10)", got)
	}
	if got := s.mustValue(t, "gpuwd_nvlink_transmit_bytes_total", "gpu", "0"); got != 100*1024 {
		t.Errorf("transmitted = %v bytes, want the all-links aggregate (102400)", got)
	}
	if got := s.mustValue(t, "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "gpu", "0"); got != 200 {
		t.Errorf("bandwidth total = %v KiB, want 200", got)
	}
}

func TestOlderDriverGetsOlderCallsNotACrash(t *testing.T) {
	srv := newMockServer()
	missing := map[string]bool{"nvmlDeviceGetMemoryInfo_v2": true, "nvmlDeviceGetCurrentClocksEventReasons": true, "nvmlGpmSampleGet": true}
	srv.LookupSymbolFunc = func(name string) error {
		if missing[name] {
			return errors.New("undefined symbol " + name)
		}
		return nil
	}
	for i := range srv.Devices {
		d := device(srv, i)
		// With the real library these calls would end the process.
		d.GetMemoryInfo_v2Func = nil
		d.GetSupportedClocksEventReasonsFunc = nil
		d.GetCurrentClocksEventReasonsFunc = nil
		d.GpmQueryDeviceSupportFunc = nil
		d.GetSupportedClocksThrottleReasonsFunc = func() (uint64, nvml.Return) { return 0x1ff, nvml.SUCCESS }
		d.GetCurrentClocksThrottleReasonsFunc = func() (uint64, nvml.Return) { return nvml.ClocksThrottleReasonHwThermalSlowdown, nvml.SUCCESS }
	}
	s := newMachine(t, srv, []string{"memory", "clock_events", "gpm"}).sample()
	for _, c := range []string{"memory", "clock_events", "gpm"} {
		if s.mustValue(t, "gpuwd_collector_success", "collector", c) != 1 {
			t.Errorf("collector %s failed on an older driver", c)
		}
	}
	if got := s.mustValue(t, "DCGM_FI_DEV_FB_TOTAL", "gpu", "1"); got != 40960 {
		t.Errorf("FB_TOTAL from the v1 call = %v MiB", got)
	}
	if s.mustValue(t, "gpuwd_clock_event_active", "gpu", "1", "reason", "hw_thermal_slowdown") != 1 {
		t.Error("throttle reasons not read through the older call")
	}
}

func TestMIGComputeInstancesShareTheirGPUInstanceMemory(t *testing.T) {
	srv := newMockServer()
	enableMIG(device(srv, 0), func(i int) *mock.Device {
		return &mock.Device{ // two compute instances of GPU instance 2
			GetGpuInstanceIdFunc:     func() (int, nvml.Return) { return 2, nvml.SUCCESS },
			GetComputeInstanceIdFunc: func() (int, nvml.Return) { return i, nvml.SUCCESS },
			GetUUIDFunc:              func() (string, nvml.Return) { return "MIG-" + string(rune('a'+i)), nvml.SUCCESS },
			GetNameFunc:              func() (string, nvml.Return) { return "NVIDIA A100-SXM4-40GB MIG 1c.3g.20gb", nvml.SUCCESS },
			GetMemoryInfoFunc:        func() (nvml.Memory, nvml.Return) { return nvml.Memory{Total: 20 << 30, Used: 1 << 30}, nvml.SUCCESS },
		}
	})
	m := newMachine(t, srv, []string{"mig"})
	s := m.sample() // a pedantic registry: a duplicate series fails the gather
	if got := len(s["gpuwd_mig_instance_info"]); got != 2 {
		t.Errorf("%d instance series, want one per compute instance (2)", got)
	}
	if got := len(s["gpuwd_mig_fb_used_bytes"]); got != 1 {
		t.Errorf("%d memory series, want one per GPU instance (1)", got)
	}
	if _, ok := s.value("gpuwd_mig_fb_used_bytes", "GPU_I_PROFILE", "3g.20gb"); !ok {
		t.Error("GPU_I_PROFILE should be the GPU instance's profile, 3g.20gb")
	}
}

func TestLostGPUComesBackWhenItAnswers(t *testing.T) {
	srv := newMockServer()
	lost := true
	d := device(srv, 1)
	d.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) {
		if lost {
			return 0, nvml.ERROR_GPU_IS_LOST
		}
		return 50, nvml.SUCCESS
	}
	// Only collectors that never call NVML: the probe alone decides.
	m := newMachine(t, srv, []string{"info", "xid"})
	m.gpus[1].MarkLost("test")
	if got := m.sample().mustValue(t, "gpuwd_gpu_up", "gpu", "1"); got != 0 {
		t.Errorf("a GPU that does not answer reads up=%v", got)
	}
	lost = false
	if got := m.sample().mustValue(t, "gpuwd_gpu_up", "gpu", "1"); got != 1 {
		t.Errorf("a GPU that answers again reads up=%v", got)
	}
}

// enableMIG turns MIG on for d with two MIG devices made by instance.
func enableMIG(d *dgxa100.Device, instance func(i int) *mock.Device) {
	d.GetMigModeFunc = func() (int, int, nvml.Return) { return nvml.DEVICE_MIG_ENABLE, nvml.DEVICE_MIG_ENABLE, nvml.SUCCESS }
	d.GetMaxMigDeviceCountFunc = func() (int, nvml.Return) { return 7, nvml.SUCCESS }
	d.GetMigDeviceHandleByIndexFunc = func(i int) (nvml.Device, nvml.Return) {
		if i > 1 {
			return nil, nvml.ERROR_NOT_FOUND
		}
		return instance(i), nvml.SUCCESS
	}
}

func TestFanNotSupportedIsAskedOnce(t *testing.T) {
	srv := newMockServer() // no fan on any GPU
	calls := 0
	device(srv, 0).GetFanSpeedFunc = func() (uint32, nvml.Return) { calls++; return 0, nvml.ERROR_NOT_SUPPORTED }
	device(srv, 1).GetFanSpeedFunc = func() (uint32, nvml.Return) { return 45, nvml.SUCCESS }
	m := newMachine(t, srv, []string{"fan"})
	for range 3 {
		s := m.sample()
		if _, ok := s.value("gpuwd_fan_speed_ratio", "gpu", "0"); ok {
			t.Error("fan series for a GPU without a fan")
		}
		if got := s.mustValue(t, "gpuwd_fan_speed_ratio", "gpu", "1"); got != 0.45 {
			t.Errorf("fan gpu 1 = %v, want 0.45", got)
		}
		if s.mustValue(t, "gpuwd_collector_success", "collector", "fan") != 1 {
			t.Error("fan collector failed on NOT_SUPPORTED")
		}
	}
	if calls != 1 {
		t.Errorf("GetFanSpeed called %d times on a GPU without a fan, want 1", calls)
	}
}
