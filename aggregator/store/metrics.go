package store

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the store's own series, on the aggregator's /metrics and in
// its self-scrape, so rules can alert on a full disk before it happens.
type metrics struct {
	appended            prometheus.Counter
	seriesCreated       prometheus.Counter
	rejected            *prometheus.CounterVec
	commits             *prometheus.CounterVec
	commitDuration      prometheus.Histogram
	chunksWritten       prometheus.Counter
	maintenance         prometheus.Histogram
	maintenanceFailures prometheus.Counter
	writable            prometheus.Gauge

	mu      sync.Mutex
	lastErr error
}

func newMetrics(reg prometheus.Registerer, s *Store) *metrics {
	m := &metrics{
		appended:            prometheus.NewCounter(prometheus.CounterOpts{Name: "gpuwd_storage_samples_appended_total", Help: "Samples committed to the store."}),
		seriesCreated:       prometheus.NewCounter(prometheus.CounterOpts{Name: "gpuwd_storage_series_created_total", Help: "Series created."}),
		rejected:            prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpuwd_storage_samples_rejected_total", Help: "Samples refused, by reason (too_old, out_of_order, unknown_series)."}, []string{"reason"}),
		commits:             prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpuwd_storage_commits_total", Help: "Write transactions, by result (success, disk_full, error)."}, []string{"result"}),
		commitDuration:      prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gpuwd_storage_commit_duration_seconds", Help: "Duration of a write transaction.", Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8)}),
		chunksWritten:       prometheus.NewCounter(prometheus.CounterOpts{Name: "gpuwd_storage_chunks_written_total", Help: "Compressed chunks written by compaction."}),
		maintenance:         prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gpuwd_storage_maintenance_duration_seconds", Help: "Duration of a compaction, downsampling and retention round.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 9)}),
		maintenanceFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "gpuwd_storage_maintenance_failures_total", Help: "Maintenance rounds that failed."}),
		writable:            prometheus.NewGauge(prometheus.GaugeOpts{Name: "gpuwd_storage_writable", Help: "1 while the last write transaction succeeded; 0 while writes fail (e.g. disk full)."}),
	}
	m.writable.Set(1)
	for _, r := range []string{"too_old", "out_of_order", "unknown_series"} {
		m.rejected.WithLabelValues(r)
	}
	for _, r := range []string{"success", "disk_full", "error"} {
		m.commits.WithLabelValues(r)
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.appended, m.seriesCreated, m.rejected, m.commits, m.commitDuration, m.chunksWritten, m.maintenance, m.maintenanceFailures, m.writable,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gpuwd_storage_series", Help: "Series known to the store."}, func() float64 {
			s.ix.mu.RLock()
			defer s.ix.mu.RUnlock()
			return float64(len(s.ix.byRef))
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gpuwd_storage_size_bytes", Help: "Size of the database file and its write-ahead log."}, func() float64 {
			return float64(fileSize(s.path) + fileSize(s.path+"-wal"))
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gpuwd_storage_disk_free_bytes", Help: "Free bytes on the file system of the data directory."}, func() float64 {
			free, _ := diskSpace(s.path)
			return float64(free)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gpuwd_storage_disk_size_bytes", Help: "Size of the file system of the data directory."}, func() float64 {
			_, size := diskSpace(s.path)
			return float64(size)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gpuwd_storage_compacted_through_timestamp_seconds", Help: "Every window before this time is compacted into chunks."}, func() float64 {
			return float64(s.compactedThrough.Load()) / 1000
		}),
	)
	return m
}

// observeCommit is the writer's report of each transaction.
func (m *metrics) observeCommit(err error, _ int, took time.Duration) {
	m.commitDuration.Observe(took.Seconds())
	result := "success"
	switch {
	case errors.Is(err, ErrDiskFull):
		result = "disk_full"
	case err != nil:
		result = "error"
	}
	m.commits.WithLabelValues(result).Inc()
	m.mu.Lock()
	m.lastErr = err
	m.mu.Unlock()
	if err != nil {
		m.writable.Set(0)
	} else {
		m.writable.Set(1)
	}
}

// WriteError returns the error of the last write transaction, nil when it
// succeeded: a store that cannot write (full disk) says so here until a
// write succeeds again.
func (s *Store) WriteError() error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.m.lastErr
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func diskSpace(path string) (free, size uint64) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize)
}
