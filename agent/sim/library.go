package sim

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// Options describe a simulated machine.
type Options struct {
	// Spec is the machine: "h100x8", "a100x4,l4x2", "mixed" (see ParseSpec).
	Spec string
	// Seed makes two simulated machines differ (UUIDs, jobs); the same seed
	// gives the same machine.
	Seed uint64
	// Stable freezes every reading at a fixed value per GPU, for golden tests.
	Stable bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Schedule, when set, decides which job each GPU runs and how hard
	// it works, in place of the simulator's own jobs; readings still move
	// around the job's load. Stable mode ignores it.
	Schedule Schedule
}

// Schedule says what GPU i (its index) is doing at t. It is asked once per
// GPU for every simulated second, so it must be cheap, and for the readings
// to be reproducible it must answer the same for the same arguments.
type Schedule func(i int, t time.Time) Work

// Work is what a GPU does at one moment.
type Work struct {
	Job     uint32  // the job holding the GPU; 0: none, the GPU idles
	Load    float64 // the job's typical utilisation, 0-100; 0: it holds the GPU and does nothing
	MemFrac float64 // the share of the GPU's usable memory the job fills, 0-1
}

// DriverVersion and CUDAVersion are what the simulated driver reports.
const (
	DriverVersion = "550.90.07"
	CUDAVersion   = 12040
)

// Library is a simulated NVML library.
type Library struct {
	nvml.Interface // unimplemented calls panic; the agent makes none

	devices  []*Device
	now      func() time.Time
	schedule Schedule // nil: the simulator's own jobs

	mu   sync.Mutex
	sets []*eventSet
}

// New builds a simulated machine.
func New(o Options) (*Library, error) {
	ms, err := ParseSpec(o.Spec)
	if err != nil {
		return nil, err
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	l := &Library{now: now, schedule: o.Schedule}
	start := now()
	for i := range ms {
		m := ms[i]
		d := &Device{
			lib:   l,
			model: &m,
			index: i,
			uuid:  uuidFor(o.Seed, i),
			bus:   busNumbers[i%len(busNumbers)] + uint32(i/len(busNumbers)),
			rng:   rand.New(rand.NewPCG(o.Seed, uint64(i))),
			last:  start,
		}
		d.stable = o.Stable
		if o.Stable {
			d.st = stableState(d.model, i)
		} else {
			d.st = state{tempC: 33, memTempC: 37, smClock: float64(m.IdleSMClock), energyMJ: 5e8,
				idleTicks: d.rng.IntN(30)}
		}
		d.buildMIG()
		l.devices = append(l.devices, d)
	}
	return l, nil
}

// busNumbers are the PCI buses of the GPUs in a typical 8-GPU HGX server.
var busNumbers = []uint32{0x18, 0x2a, 0x3a, 0x5d, 0x9a, 0xab, 0xba, 0xdb}

func uuidFor(seed uint64, i int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "gpuwd-sim/%d/%d", seed, i))
	return fmt.Sprintf("GPU-%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// Devices returns the simulated GPUs, in index order.
func (l *Library) Devices() []*Device { return l.devices }

func (l *Library) Init() nvml.Return { return nvml.SUCCESS }

// Extensions gives LookupSymbol: the simulated driver has every call.
func (l *Library) Extensions() nvml.ExtendedInterface { return l }
func (l *Library) LookupSymbol(string) error          { return nil }
func (l *Library) Shutdown() nvml.Return              { return nvml.SUCCESS }

func (l *Library) SystemGetDriverVersion() (string, nvml.Return) { return DriverVersion, nvml.SUCCESS }
func (l *Library) SystemGetCudaDriverVersion() (int, nvml.Return) {
	return CUDAVersion, nvml.SUCCESS
}

func (l *Library) DeviceGetCount() (int, nvml.Return) { return len(l.devices), nvml.SUCCESS }

func (l *Library) DeviceGetHandleByIndex(i int) (nvml.Device, nvml.Return) {
	if i < 0 || i >= len(l.devices) {
		return nil, nvml.ERROR_INVALID_ARGUMENT
	}
	d := l.devices[i]
	if d.isLost() {
		return nil, nvml.ERROR_GPU_IS_LOST
	}
	return d, nvml.SUCCESS
}

func (l *Library) SystemGetProcessName(pid int) (string, nvml.Return) {
	for _, d := range l.devices {
		if d.jobPID() == uint32(pid) {
			return "python3", nvml.SUCCESS
		}
	}
	return "", nvml.ERROR_NOT_FOUND
}

// InjectXID makes GPU i report an XID error through the event sets, as the
// driver would.
func (l *Library) InjectXID(i int, xid uint64) error {
	if i < 0 || i >= len(l.devices) {
		return fmt.Errorf("no GPU %d (this machine has %d)", i, len(l.devices))
	}
	d := l.devices[i]
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.sets {
		s.deliver(d, nvml.EventData{Device: d, EventType: nvml.EventTypeXidCriticalError, EventData: xid})
	}
	return nil
}

// LoseGPU makes GPU i fall off the bus: from now on every call on it answers
// ERROR_GPU_IS_LOST, and an XID 79 is reported, as a real GPU does.
func (l *Library) LoseGPU(i int) error {
	if err := l.InjectXID(i, 79); err != nil {
		return err
	}
	l.devices[i].lost.Store(true)
	return nil
}

// Heat pins GPU i's temperature at celsius, as a failing fan would; 0
// lets the simulation drive it again.
func (l *Library) Heat(i int, celsius uint32) error {
	if i < 0 || i >= len(l.devices) {
		return fmt.Errorf("no GPU %d (this machine has %d)", i, len(l.devices))
	}
	l.devices[i].heat.Store(celsius)
	return nil
}

func (l *Library) EventSetCreate() (nvml.EventSet, nvml.Return) {
	s := &eventSet{events: make(chan nvml.EventData, 256), registered: map[*Device]uint64{}}
	l.mu.Lock()
	l.sets = append(l.sets, s)
	l.mu.Unlock()
	return s, nvml.SUCCESS
}

func (l *Library) GpmSampleAlloc() (nvml.GpmSample, nvml.Return) { return &gpmSample{}, nvml.SUCCESS }

func (l *Library) GpmSampleGet(d nvml.Device, s nvml.GpmSample) nvml.Return { return s.Get(d) }

func (l *Library) GpmMetricsGet(q *nvml.GpmMetricsGetType) nvml.Return {
	s1, ok1 := q.Sample1.(*gpmSample)
	s2, ok2 := q.Sample2.(*gpmSample)
	if !ok1 || !ok2 || s1.dev == nil || s1.dev != s2.dev {
		return nvml.ERROR_INVALID_ARGUMENT
	}
	for i := range q.NumMetrics {
		m := &q.Metrics[i]
		v, ok := gpmValue(nvml.GpmMetricId(m.MetricId), s1, s2)
		if !ok {
			m.NvmlReturn = uint32(nvml.ERROR_NOT_SUPPORTED)
			continue
		}
		m.NvmlReturn, m.Value = uint32(nvml.SUCCESS), v
	}
	return nvml.SUCCESS
}

// eventSet delivers events for the devices registered with it.
type eventSet struct {
	events chan nvml.EventData

	mu         sync.Mutex
	registered map[*Device]uint64
	freed      bool
}

func (s *eventSet) deliver(d *Device, ev nvml.EventData) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.freed || s.registered[d]&ev.EventType == 0 {
		return
	}
	select {
	case s.events <- ev:
	default: // the driver drops events nobody collects
	}
}

func (s *eventSet) Wait(timeoutMs uint32) (nvml.EventData, nvml.Return) {
	t := time.NewTimer(time.Duration(timeoutMs) * time.Millisecond)
	defer t.Stop()
	select {
	case ev := <-s.events:
		return ev, nvml.SUCCESS
	case <-t.C:
		return nvml.EventData{}, nvml.ERROR_TIMEOUT
	}
}

func (s *eventSet) Free() nvml.Return {
	s.mu.Lock()
	s.freed = true
	s.mu.Unlock()
	return nvml.SUCCESS
}

// gpmSample holds a device's counters at one moment.
type gpmSample struct {
	dev *Device
	st  state
}

func (s *gpmSample) Get(d nvml.Device) nvml.Return {
	dev, ok := d.(*Device)
	if !ok {
		return nvml.ERROR_INVALID_ARGUMENT
	}
	if dev.isLost() {
		return nvml.ERROR_GPU_IS_LOST
	}
	s.dev, s.st = dev, dev.read()
	return nvml.SUCCESS
}

func (s *gpmSample) MigGet(nvml.Device, int) nvml.Return { return nvml.ERROR_NOT_SUPPORTED }
func (s *gpmSample) Free() nvml.Return                   { return nvml.SUCCESS }

// gpmValue derives a profiling metric from two samples: the average load
// between them, shaped per metric.
func gpmValue(id nvml.GpmMetricId, a, b *gpmSample) (float64, bool) {
	load := (a.st.util + b.st.util) / 2 // percent
	mem := (a.st.memCopy + b.st.memCopy) / 2
	switch id {
	case nvml.GPM_METRIC_GRAPHICS_UTIL:
		return load * 0.97, true
	case nvml.GPM_METRIC_SM_UTIL:
		return load * 0.82, true
	case nvml.GPM_METRIC_SM_OCCUPANCY:
		return load * 0.41, true
	case nvml.GPM_METRIC_ANY_TENSOR_UTIL:
		return load * 0.58, true
	case nvml.GPM_METRIC_DRAM_BW_UTIL:
		return mem * 0.9, true
	case nvml.GPM_METRIC_FP64_UTIL:
		return load * 0.01, true
	case nvml.GPM_METRIC_FP32_UTIL:
		return load * 0.12, true
	case nvml.GPM_METRIC_FP16_UTIL:
		return load * 0.35, true
	case nvml.GPM_METRIC_PCIE_TX_PER_SEC:
		return load * 42, true // MiB/s
	case nvml.GPM_METRIC_PCIE_RX_PER_SEC:
		return load * 310, true
	case nvml.GPM_METRIC_NVLINK_TOTAL_TX_PER_SEC, nvml.GPM_METRIC_NVLINK_TOTAL_RX_PER_SEC:
		if a.dev.model.NVLinks == 0 {
			return 0, false
		}
		return load * 1800, true
	}
	return 0, false
}
