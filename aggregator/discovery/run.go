package discovery

import (
	"context"
	"reflect"
	"sync"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// finalFlushTimeout bounds the last save of last-seen times at shutdown.
const finalFlushTimeout = 10 * time.Second

// Run polls the file_sd files, forgets silent agents, keeps the store up to
// date and calls Options.OnChange, until ctx is done. At the end it saves
// the agents' last-seen times, so a restart does not forget them early.
func (m *Manager) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { m.pollFiles(ctx) })
	wg.Go(func() { m.maintain(ctx) })
	if m.opts.OnChange != nil {
		wg.Go(func() { m.deliver(ctx) })
	}
	wg.Wait()
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalFlushTimeout)
	defer cancel()
	m.reg.flush(flushCtx, true)
	return nil
}

func (m *Manager) pollFiles(ctx context.Context) {
	tick := time.NewTicker(m.opts.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			m.pollOnce()
		}
	}
}

// pollOnce checks every file_sd file once.
func (m *Manager) pollOnce() {
	m.mu.Lock()
	files := m.files
	m.mu.Unlock()
	changed := false
	for _, f := range files {
		changed = f.poll() || changed
	}
	if changed {
		m.changed()
	}
}

func (m *Manager) maintain(ctx context.Context) {
	tick := time.NewTicker(m.opts.MaintainInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			m.reg.maintain(ctx, m.now())
		}
	}
}

// deliver calls OnChange with the first set, then with every different
// set, at most once per MinUpdateInterval: changes during the wait are
// merged into one call.
func (m *Manager) deliver(ctx context.Context) {
	var last []target.Target
	first := true
	wait := time.NewTimer(0)
	defer wait.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wait.C:
		}
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-m.notify:
			}
		}
		ts := m.Targets()
		if first || !reflect.DeepEqual(ts, last) {
			m.opts.OnChange(ts)
			last, first = ts, false
		}
		wait.Reset(m.opts.MinUpdateInterval)
	}
}
