package aggregator

import (
	"context"
	"sync"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/remotewrite"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/scrape"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
)

// forwarding is the scraper's storage when remote_write is configured:
// samples go to the store and, once acknowledged there, to every queue.
type forwarding struct {
	st     *store.Store
	queues []*remotewrite.Queue

	mu     sync.RWMutex
	labels map[store.SeriesRef]labels.Labels
	buf    sync.Pool
}

var _ scrape.Storage = (*forwarding)(nil)

func newForwarding(st *store.Store, queues []*remotewrite.Queue) *forwarding {
	return &forwarding{st: st, queues: queues, labels: map[store.SeriesRef]labels.Labels{}}
}

func (f *forwarding) Ref(lset labels.Labels) (store.SeriesRef, error) {
	ref, err := f.st.Ref(lset)
	if err != nil {
		return 0, err
	}
	f.mu.RLock()
	_, ok := f.labels[ref]
	f.mu.RUnlock()
	if !ok {
		f.mu.Lock()
		f.labels[ref] = lset.Copy()
		f.mu.Unlock()
	}
	return ref, nil
}

func (f *forwarding) Append(ctx context.Context, samples []store.Sample) error {
	if err := f.st.Append(ctx, samples); err != nil {
		return err
	}
	out, _ := f.buf.Get().(*[]remotewrite.Sample)
	if out == nil {
		out = new([]remotewrite.Sample)
	}
	batch := (*out)[:0]
	f.mu.RLock()
	for _, s := range samples {
		if lset, ok := f.labels[s.Ref]; ok {
			batch = append(batch, remotewrite.Sample{Labels: lset, T: s.T, V: s.V})
		}
	}
	f.mu.RUnlock()
	for _, q := range f.queues {
		q.Append(batch)
	}
	*out = batch
	f.buf.Put(out)
	return nil
}

func (f *forwarding) SetMetadata(metric string, m store.Metadata) { f.st.SetMetadata(metric, m) }
