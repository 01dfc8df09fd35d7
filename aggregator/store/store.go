package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/gpu-watchdog/gpu-watchdog/internal/steady"
)

// FileName is the database file inside the data directory.
const FileName = "gpuwd.db"

// Options tune a Store; zero values take the defaults.
type Options struct {
	Retention       time.Duration // drop data older than this (default 15d)
	DownsampleAfter time.Duration // downsample raw data older than this (default 2d)
	DownsampleStep  time.Duration // one min/max/avg point per step (default 5m)
	// Window is the span of one compressed chunk; it must divide a day
	// (default 30m).
	Window time.Duration
	// Grace keeps a window open this long after its end for late samples
	// (default 5m).
	Grace time.Duration
	// Recent is how much compacted history also stays in memory, in whole
	// windows, so queries over the last hour read no SQLite (default 1h;
	// negative: none).
	Recent time.Duration
	// MaintenanceInterval is how often compaction, downsampling and
	// retention check for work (default 10s).
	MaintenanceInterval time.Duration
	// SyncFull makes every commit survive power loss too (SQLite
	// synchronous=FULL); the default survives a killed process.
	SyncFull   bool
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

func (o *Options) defaults() error {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.Retention, 15*24*time.Hour)
	def(&o.DownsampleAfter, 48*time.Hour)
	def(&o.DownsampleStep, 5*time.Minute)
	def(&o.Window, 30*time.Minute)
	def(&o.Grace, 5*time.Minute)
	def(&o.Recent, time.Hour)
	def(&o.MaintenanceInterval, 10*time.Second)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch {
	case day%o.Window.Milliseconds() != 0 || o.Window < time.Minute:
		return fmt.Errorf("window %s must be at least 1m and divide a day", o.Window)
	case day%o.DownsampleStep.Milliseconds() != 0:
		return fmt.Errorf("downsample step %s must divide a day", o.DownsampleStep)
	}
	return nil
}

const day = int64(24 * time.Hour / time.Millisecond)

// Store is the time-series history. It is safe for concurrent use.
type Store struct {
	opts   Options
	path   string
	db     *sql.DB // the writer's single connection
	rdb    *sql.DB // readers
	w      *writer
	ix     *index
	tables *dayTables
	m      *metrics

	// flushMu orders appends against compaction: an Append holds it for
	// reading from validation until its samples are in the head.
	flushMu sync.RWMutex
	// minValidT is the start of the oldest open window; older samples are
	// refused (ms).
	minValidT atomic.Int64
	// compactedThrough: every window before it is in the chunk tables (ms).
	compactedThrough atomic.Int64
	// recent: the last compacted windows' chunks, also in memory.
	recent atomic.Pointer[recentChunks]

	metaMu   sync.RWMutex
	metadata map[string]Metadata

	maintainMu sync.Mutex    // one maintenance pass at a time
	steady     *steady.Clock // the clock retention and downsampling read
	stop       chan struct{}
	wg         sync.WaitGroup
	closeOnce  sync.Once
}

// Open opens (creating if needed) the store in dir, replays its write-ahead
// rows and starts background maintenance.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if err := opts.defaults(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s := &Store{opts: opts, path: filepath.Join(dir, FileName), ix: newIndex(), metadata: map[string]Metadata{}, stop: make(chan struct{}),
		steady: steady.New(opts.Now)}
	sync := "NORMAL"
	if opts.SyncFull {
		sync = "FULL"
	}
	dsn := "file:" + s.path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(" + sync +
		")&_pragma=auto_vacuum(INCREMENTAL)&_pragma=foreign_keys(OFF)&_txlock=immediate"
	var err error
	if s.db, err = sql.Open("sqlite", dsn); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", s.path, err)
	}
	s.db.SetMaxOpenConns(1)
	if err := migrate(ctx, s.db); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store %s: %w", s.path, err)
	}
	rdsn := "file:" + s.path + "?_pragma=busy_timeout(10000)&_pragma=query_only(1)"
	if s.rdb, err = sql.Open("sqlite", rdsn); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store: open %s: %w", s.path, err)
	}
	s.rdb.SetMaxOpenConns(4)
	s.m = newMetrics(opts.Registerer, s)
	if err := s.load(ctx); err != nil {
		s.rdb.Close()
		s.db.Close()
		return nil, fmt.Errorf("store %s: %w", s.path, err)
	}
	s.w = newWriter(s.db, s.m.observeCommit)
	s.wg.Add(1)
	go s.maintainLoop()
	return s, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close stops maintenance and closes the database. Acknowledged samples are
// already durable; the head is rebuilt from the write-ahead rows next time.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stop)
		s.wg.Wait()
		s.w.close()
		err = errors.Join(s.rdb.Close(), s.db.Close())
	})
	return err
}

// load rebuilds the in-memory state: series, metadata, day tables, and the
// head from the write-ahead rows.
func (s *Store) load(ctx context.Context) error {
	compacted, err := s.readState(ctx, stateCompactedThrough)
	if err != nil {
		return err
	}
	if compacted == 0 {
		compacted = s.windowStart(s.opts.Now().UnixMilli()) - s.opts.Window.Milliseconds()
	}
	s.minValidT.Store(compacted)
	s.compactedThrough.Store(compacted)
	if s.tables, err = loadDayTables(ctx, s.db); err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT id, labels, first_t, last_t FROM series")
	if err != nil {
		return fmt.Errorf("load series: %w", err)
	}
	var builder labels.ScratchBuilder
	for rows.Next() {
		var id, firstT, lastT int64
		var raw []byte
		if err := rows.Scan(&id, &raw, &firstT, &lastT); err != nil {
			rows.Close()
			return err
		}
		lset, err := decodeLabels(raw, &builder)
		if err != nil {
			rows.Close()
			return fmt.Errorf("series %d: %w", id, err)
		}
		ms := &memSeries{ref: SeriesRef(id), lset: lset, firstT: firstT}
		ms.lastT.Store(lastT)
		s.ix.add(ms)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("load series: %w", err)
	}
	if err := s.loadMetadata(ctx); err != nil {
		return err
	}
	return s.replay(ctx, compacted)
}

// replay puts the write-ahead samples of open windows back into the head.
func (s *Store) replay(ctx context.Context, minT int64) error {
	rows, err := s.db.QueryContext(ctx, "SELECT id, data FROM wal ORDER BY id")
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer rows.Close()
	var samples []Sample
	records, skipped := 0, 0
	for rows.Next() {
		var id int64
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		if samples, err = decodeWAL(data, samples[:0]); err != nil {
			// A committed row cannot be torn; a corrupt one is reported and
			// skipped rather than blocking start-up.
			s.opts.Logger.Error("skipping corrupt write-ahead record", "id", id, "err", err)
			continue
		}
		records++
		for _, smp := range samples {
			ms := s.ix.byRef[smp.Ref]
			if ms == nil || smp.T < minT || !ms.append(smp.T, smp.V, s.windowStart(smp.T)) {
				skipped++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if records > 0 {
		s.opts.Logger.Info("replayed write-ahead records", "records", records, "skipped_samples", skipped)
	}
	return nil
}

func (s *Store) windowStart(t int64) int64 {
	w := s.opts.Window.Milliseconds()
	return t - ((t%w)+w)%w
}

// Ref returns the reference of the series with these labels, creating it if
// new. lset must be sorted and hold a metric name.
func (s *Store) Ref(lset labels.Labels) (SeriesRef, error) {
	if lset.IsEmpty() {
		return 0, errors.New("store: empty label set")
	}
	h := lset.Hash()
	s.ix.mu.RLock()
	ms := s.ix.get(h, lset)
	s.ix.mu.RUnlock()
	if ms != nil {
		return ms.ref, nil
	}
	s.ix.mu.Lock()
	defer s.ix.mu.Unlock()
	if ms := s.ix.get(h, lset); ms != nil {
		return ms.ref, nil
	}
	ms = &memSeries{ref: s.ix.nextRef, lset: lset.Copy(), firstT: s.opts.Now().UnixMilli()}
	ms.lastT.Store(math.MinInt64)
	s.ix.add(ms)
	s.w.addSeries(ms)
	s.m.seriesCreated.Inc()
	return ms.ref, nil
}

// Append stores samples. When it returns nil they are committed to disk.
// Samples older than the open windows, out of order, or naming an unknown
// series are dropped and counted, not stored; storage failures (wrapping
// ErrDiskFull when the disk is full) fail the whole call, and each series'
// newest refused sample is held in memory for queries (see heldSample).
func (s *Store) Append(ctx context.Context, samples []Sample) error {
	if len(samples) == 0 {
		return nil
	}
	s.flushMu.RLock()
	defer s.flushMu.RUnlock()
	minValid := s.minValidT.Load()
	valid := samples[:0:0]
	series := make([]*memSeries, 0, len(samples))
	s.ix.mu.RLock()
	for _, smp := range samples {
		ms := s.ix.byRef[smp.Ref]
		switch {
		case ms == nil:
			s.m.rejected.WithLabelValues("unknown_series").Inc()
		case smp.T < minValid:
			s.m.rejected.WithLabelValues("too_old").Inc()
		case smp.T <= ms.lastT.Load():
			s.m.rejected.WithLabelValues("out_of_order").Inc()
		default:
			valid = append(valid, smp)
			series = append(series, ms)
		}
	}
	s.ix.mu.RUnlock()
	if len(valid) == 0 {
		return nil
	}
	rec, mint, maxt := encodeWAL(make([]byte, 0, 16+len(valid)*11), valid)
	if err := s.w.submit(ctx, &writeReq{wal: rec, mint: mint, maxt: maxt, samples: len(valid)}); err != nil {
		if ctx.Err() == nil {
			for i, smp := range valid {
				series[i].hold(smp.T, smp.V)
			}
		}
		return fmt.Errorf("store: %w", err)
	}
	for i, smp := range valid {
		if !series[i].append(smp.T, smp.V, s.windowStart(smp.T)) {
			s.m.rejected.WithLabelValues("out_of_order").Inc()
		}
	}
	s.m.appended.Add(float64(len(valid)))
	return nil
}

// SetMetadata records what the exposition says about a metric family. It is
// written with the next commit; the last value wins.
func (s *Store) SetMetadata(metric string, m Metadata) {
	s.metaMu.Lock()
	old, ok := s.metadata[metric]
	s.metadata[metric] = m
	s.metaMu.Unlock()
	if !ok || old != m {
		s.w.addMetadata(metric, m)
	}
}

// Metadata returns every metric family's metadata.
func (s *Store) Metadata() map[string]Metadata {
	s.metaMu.RLock()
	defer s.metaMu.RUnlock()
	out := make(map[string]Metadata, len(s.metadata))
	for k, v := range s.metadata {
		out[k] = v
	}
	return out
}

func (s *Store) loadMetadata(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "SELECT metric, type, help, unit FROM metadata")
	if err != nil {
		return fmt.Errorf("load metadata: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var m Metadata
		if err := rows.Scan(&name, &m.Type, &m.Help, &m.Unit); err != nil {
			return err
		}
		s.metadata[name] = m
	}
	return rows.Err()
}
