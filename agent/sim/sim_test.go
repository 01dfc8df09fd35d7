package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

func TestParseSpec(t *testing.T) {
	for spec, want := range map[string]string{
		"h100x8":      strings.Repeat("h100 ", 8),
		"a100x2,l4x1": "a100 a100 l4 ",
		"L40S":        "l40s ",
		"mixed":       "h100 a100mig l40s rtx4090 ",
	} {
		ms, err := ParseSpec(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		var got strings.Builder
		for _, m := range ms {
			got.WriteString(m.Key + " ")
		}
		if got.String() != want {
			t.Errorf("%s = %q, want %q", spec, got.String(), want)
		}
	}
	for spec, want := range map[string]string{
		"v100x8": `unknown GPU model "v100"`,
		"h100x0": "want 1 to 64",
		"":       "unknown GPU model",
	} {
		if _, err := ParseSpec(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", spec, err, want)
		}
	}
}

// clock is a manual clock for the simulator.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestReadingsMoveLikeABusyFleet(t *testing.T) {
	c := &clock{time.Unix(1_700_000_000, 0)}
	lib, err := New(Options{Spec: "h100x1", Seed: 7, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	d := lib.Devices()[0]
	var (
		busy, idle, withMemory int
		lastEnergy             uint64
		hotWhenBusy, hotIdle   float64
	)
	for range 3600 {
		c.t = c.t.Add(time.Second)
		u, _ := d.GetUtilizationRates()
		p, _ := d.GetPowerUsage()
		temp, _ := d.GetTemperature(nvml.TEMPERATURE_GPU)
		e, _ := d.GetTotalEnergyConsumption()
		m, _ := d.GetMemoryInfo_v2()
		if e < lastEnergy {
			t.Fatal("energy went backwards")
		}
		lastEnergy = e
		if m.Used+m.Reserved+m.Free != m.Total {
			t.Fatalf("memory does not add up: %+v", m)
		}
		if u.Gpu > 100 || float64(p)/1000 > 700 {
			t.Fatalf("reading out of range: util %d power %d mW", u.Gpu, p)
		}
		if m.Used > 0 {
			withMemory++
		}
		if u.Gpu > 50 {
			busy++
			hotWhenBusy += float64(temp)
		} else if u.Gpu == 0 {
			idle++
			hotIdle += float64(temp)
		}
	}
	if busy < 600 || idle < 60 || withMemory < 600 {
		t.Errorf("an hour had %d busy, %d idle seconds and %d with memory in use: not a busy fleet", busy, idle, withMemory)
	}
	if hotWhenBusy/float64(busy) <= hotIdle/float64(idle) {
		t.Error("temperature does not follow load")
	}
}

func TestSameSeedSameMachine(t *testing.T) {
	read := func(seed uint64) (string, uint32) {
		c := &clock{time.Unix(1_700_000_000, 0)}
		lib, _ := New(Options{Spec: "a100x2", Seed: seed, Now: c.now})
		c.t = c.t.Add(10 * time.Minute)
		uuid, _ := lib.Devices()[1].GetUUID()
		u, _ := lib.Devices()[1].GetUtilizationRates()
		return uuid, u.Gpu
	}
	u1, g1 := read(3)
	u2, g2 := read(3)
	u3, _ := read(4)
	if u1 != u2 || g1 != g2 {
		t.Error("the same seed gave another machine")
	}
	if u1 == u3 {
		t.Error("another seed gave the same UUIDs")
	}
}

func TestLostGPUAnswersGPUIsLost(t *testing.T) {
	lib, _ := New(Options{Spec: "h100x2"})
	set, _ := lib.EventSetCreate()
	for _, d := range lib.Devices() {
		d.RegisterEvents(nvml.EventTypeXidCriticalError, set)
	}
	if err := lib.LoseGPU(1); err != nil {
		t.Fatal(err)
	}
	if _, ret := lib.Devices()[1].GetUtilizationRates(); ret != nvml.ERROR_GPU_IS_LOST {
		t.Errorf("lost GPU answered %v", ret)
	}
	if _, ret := lib.Devices()[0].GetUtilizationRates(); ret != nvml.SUCCESS {
		t.Errorf("the other GPU answered %v", ret)
	}
	ev, ret := set.Wait(1000)
	if ret != nvml.SUCCESS || ev.EventData != 79 || ev.Device != lib.Devices()[1] {
		t.Errorf("want XID 79 from GPU 1, got %+v %v", ev, ret)
	}
	if err := lib.InjectXID(5, 13); err == nil {
		t.Error("XID on a GPU that does not exist")
	}
}

func TestModelFeatures(t *testing.T) {
	lib, _ := New(Options{Spec: "mixed", Stable: true})
	h100, a100mig, l40s, rtx := lib.Devices()[0], lib.Devices()[1], lib.Devices()[2], lib.Devices()[3]
	if _, ret := rtx.GetTotalEccErrors(nvml.MEMORY_ERROR_TYPE_CORRECTED, nvml.VOLATILE_ECC); ret != nvml.ERROR_NOT_SUPPORTED {
		t.Error("a GeForce has no ECC")
	}
	if _, ret := h100.GetFanSpeed(); ret != nvml.ERROR_NOT_SUPPORTED {
		t.Error("an H100 has no fan")
	}
	if _, ret := l40s.GetNvLinkState(0); ret != nvml.ERROR_NOT_SUPPORTED {
		t.Error("an L40S has no NVLink")
	}
	if sup, _ := h100.GpmQueryDeviceSupport(); sup.IsSupportedDevice != 1 {
		t.Error("an H100 has GPM")
	}
	if mode, _, _ := a100mig.GetMigMode(); mode != nvml.DEVICE_MIG_ENABLE {
		t.Error("a100mig runs MIG")
	}
	if _, ret := a100mig.GetUtilizationRates(); ret != nvml.ERROR_NOT_SUPPORTED {
		t.Error("no device utilisation under MIG, as on real GPUs")
	}
}

// With a Schedule the GPU runs the jobs it is given: busy while a job
// works, idle without one, and idle with its memory held while a job
// holds it and does nothing.
func TestScheduleDrivesTheGPU(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	schedule := func(i int, at time.Time) Work {
		switch s := at.Sub(start); {
		case i == 1:
			return Work{}
		case s < 10*time.Minute:
			return Work{Job: 7, Load: 90, MemFrac: 0.8}
		case s < 15*time.Minute:
			return Work{}
		default:
			return Work{Job: 8, MemFrac: 0.02} // a session left open
		}
	}
	c := &clock{start}
	lib, err := New(Options{Spec: "h100x2", Seed: 1, Now: c.now, Schedule: schedule})
	if err != nil {
		t.Fatal(err)
	}
	gpu, other := lib.Devices()[0], lib.Devices()[1]
	var busyUtil, busyN int
	for s := 1; s <= 25*60; s++ {
		c.t = start.Add(time.Duration(s) * time.Second)
		u, _ := gpu.GetUtilizationRates()
		m, _ := gpu.GetMemoryInfo_v2()
		procs, _ := gpu.GetComputeRunningProcesses()
		settled := s%300 > 30 // well inside a phase, not at its start
		switch phase := s / 300; {
		case phase < 2:
			busyUtil += int(u.Gpu)
			busyN++
			if settled && (m.Used < 60000<<20 || len(procs) != 1) {
				t.Fatalf("%ds into a busy job: %d MiB used, %d processes", s, m.Used>>20, len(procs))
			}
		case phase == 2:
			if settled && (u.Gpu != 0 || m.Used != 0 || len(procs) != 0) {
				t.Fatalf("%ds, no job: util %d, %d MiB, %d processes", s, u.Gpu, m.Used>>20, len(procs))
			}
		default:
			if settled && (u.Gpu != 0 || m.Used == 0 || m.Used > 4000<<20 || len(procs) != 1) {
				t.Fatalf("%ds into a job that does nothing: util %d, %d MiB, %d processes", s, u.Gpu, m.Used>>20, len(procs))
			}
		}
		if u, _ := other.GetUtilizationRates(); u.Gpu != 0 {
			t.Fatalf("%ds: the GPU without jobs is at %d%%", s, u.Gpu)
		}
	}
	if avg := busyUtil / busyN; avg < 60 {
		t.Errorf("a job working at 90%% averaged %d%%", avg)
	}
}
