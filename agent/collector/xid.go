package collector

import (
	"context"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

func init() { register("xid", true, newXID) }

var (
	lastXIDDesc  = gpuDesc("DCGM_FI_DEV_XID_ERRORS", "Value of the last XID error encountered (0: none since the agent started).")
	xidTotalDesc = gpuDesc("gpuwd_xid_errors_total", "XID errors seen since the agent started, by XID code.", "xid")
	xidTimeDesc  = gpuDesc("gpuwd_xid_last_timestamp_seconds", "Unix time of the last XID error with this code.", "xid")
)

// xidWait is how long one wait for an NVML event blocks before the watcher
// checks whether it should stop.
const xidWait = 500 * time.Millisecond

type watchedGPU struct {
	dev   nvml.Device
	uuid  string
	index int
}

type xidKey struct {
	gpu int
	xid uint64
}

// xid counts XID errors from NVML's event set. A goroutine blocks on the
// event set, so no XID between two samples is missed, and each code gets a
// counter and the time it last happened (dcgm-exporter only keeps the last
// code, which hides a repeat of the same XID).
type xid struct {
	logger *slog.Logger
	gpus   []*gpu.GPU
	now    func() time.Time
	set    nvml.EventSet
	// watched are the GPUs registered with set, as they were then: the
	// watcher goroutine reads only these, never the GPUs the sampler updates.
	watched []watchedGPU

	mu    sync.Mutex
	count map[xidKey]uint64
	when  map[xidKey]time.Time
	last  map[int]uint64
}

func newXID(d Deps) (Collector, error) {
	c := &xid{logger: d.Logger, gpus: d.GPUs, now: d.Now,
		count: map[xidKey]uint64{}, when: map[xidKey]time.Time{}, last: map[int]uint64{}}
	set, ret := d.Lib.EventSetCreate()
	if ret != nvml.SUCCESS {
		d.Logger.Warn("XID events unavailable: counting no XIDs", "err", gpu.ErrorString(ret))
		return c, nil
	}
	for _, g := range d.GPUs {
		if g.Device == nil {
			continue
		}
		if ret := g.Device.RegisterEvents(nvml.EventTypeXidCriticalError, set); ret != nvml.SUCCESS {
			d.Logger.Warn("XID events unavailable on this GPU", "gpu", g.Index, "err", gpu.ErrorString(ret))
			continue
		}
		c.watched = append(c.watched, watchedGPU{dev: g.Device, uuid: g.UUID, index: g.Index})
	}
	if len(c.watched) == 0 {
		set.Free()
		return c, nil
	}
	c.set = set
	return c, nil
}

// Run waits for XID events until ctx ends.
func (c *xid) Run(ctx context.Context) {
	if c.set == nil {
		return
	}
	for ctx.Err() == nil {
		ev, ret := c.set.Wait(uint32(xidWait / time.Millisecond))
		switch {
		case ret == nvml.SUCCESS:
			c.record(ev)
		case ret == nvml.ERROR_TIMEOUT:
		default:
			// A lost GPU or a driver fault: do not spin.
			c.logger.Debug("waiting for XID events", "err", gpu.ErrorString(ret))
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (c *xid) record(ev nvml.EventData) {
	if ev.EventType&nvml.EventTypeXidCriticalError == 0 {
		return
	}
	w, ok := c.gpuOf(ev.Device)
	if !ok {
		c.logger.Warn("XID event from an unknown GPU", "xid", ev.EventData)
		return
	}
	k := xidKey{w.index, ev.EventData}
	c.mu.Lock()
	c.count[k]++
	c.when[k] = c.now()
	c.last[w.index] = ev.EventData
	c.mu.Unlock()
	c.logger.Warn("XID error", "gpu", w.index, "uuid", w.uuid, "xid", ev.EventData)
}

func (c *xid) gpuOf(dev nvml.Device) (watchedGPU, bool) {
	for _, w := range c.watched {
		if w.dev == dev {
			return w, true
		}
	}
	if dev == nil {
		return watchedGPU{}, false
	}
	uuid, ret := dev.GetUUID()
	for _, w := range c.watched {
		if ret == nvml.SUCCESS && w.uuid == uuid {
			return w, true
		}
	}
	return watchedGPU{}, false
}

// Update reports every GPU, lost ones too: an XID 79 is how a GPU says it
// fell off the bus.
func (c *xid) Update(ch chan<- prometheus.Metric) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]xidKey, 0, len(c.count))
	for k := range c.count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].gpu < keys[j].gpu || keys[i].gpu == keys[j].gpu && keys[i].xid < keys[j].xid
	})
	byIndex := map[int]*gpu.GPU{}
	for _, g := range c.gpus {
		byIndex[g.Index] = g
		ch <- gpuMetric(lastXIDDesc, prometheus.GaugeValue, float64(c.last[g.Index]), g)
	}
	for _, k := range keys {
		g := byIndex[k.gpu]
		code := strconv.FormatUint(k.xid, 10)
		ch <- gpuMetric(xidTotalDesc, prometheus.CounterValue, float64(c.count[k]), g, code)
		ch <- gpuMetric(xidTimeDesc, prometheus.GaugeValue, float64(c.when[k].UnixMilli())/1000, g, code)
	}
	return nil
}

// Close frees the event set.
func (c *xid) Close() error {
	if c.set != nil {
		c.set.Free()
	}
	return nil
}
