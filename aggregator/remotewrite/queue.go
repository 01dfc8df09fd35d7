package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
)

// Sample is one scraped value. T is in milliseconds since the epoch; V may be
// any float64, NaN and the staleness marker included (sent bit for bit).
type Sample struct {
	Labels labels.Labels
	T      int64
	V      float64
}

// Defaults for the zero values of Options.
const (
	DefaultFlushInterval  = time.Second
	DefaultMaxQueueBytes  = 1 << 30
	DefaultMaxMemoryBytes = 64 << 20
	DefaultMinBackoff     = 100 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultUserAgent      = "gpuwd"
)

// Options tune a Queue; zero values take the defaults.
type Options struct {
	// Dir holds the queue files, one SQLite file per endpoint, named after
	// the endpoint's name. Required.
	Dir        string
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: no self-metrics
	// ExternalLabels are added to every series that lacks the label
	// (config's global.external_labels).
	ExternalLabels map[string]string
	// FlushInterval is the longest a sample waits in memory before it is
	// written to the queue file (default 1s).
	FlushInterval time.Duration
	// MaxQueueBytes bounds the queue file's request bodies (default 1 GiB);
	// beyond it the oldest batches are dropped and counted.
	MaxQueueBytes int64
	// MaxMemoryBytes bounds, roughly, what waits in memory because the queue
	// file cannot take it (a full disk): appended samples and encoded
	// batches, each up to this much (default 64 MiB). The oldest are dropped
	// and counted beyond.
	MaxMemoryBytes int64
	// HTTPClient sends the requests; nil builds one from the endpoint's
	// tls_config.
	HTTPClient *http.Client
	// MinBackoff and MaxBackoff bound the wait between retries of a batch
	// (defaults 100ms and 30s).
	MinBackoff, MaxBackoff time.Duration
	UserAgent              string // default "gpuwd"
}

// reservedHeaders are set by the protocol or by the auth settings; a
// configured header may not replace them (Prometheus refuses them too).
var reservedHeaders = []string{"Authorization", "Content-Encoding", "Content-Length", "Content-Type", "Host",
	"User-Agent", "X-Prometheus-Remote-Write-Version", "Retry-Attempt"}

// Queue forwards samples to one remote-write endpoint. Append may be called
// from any goroutine; Run sends; Close ends it.
type Queue struct {
	cfg      config.RemoteWrite
	opts     Options
	name     string
	url      string // with its secrets: for requests only
	redacted string // for logs, errors and Status
	log      *slog.Logger
	client   *http.Client
	file     *queueFile
	m        *metrics
	max      int // samples per request
	maxBuf   int // samples Append keeps in memory at most
	sleep    func(ctx context.Context, d time.Duration) bool

	mu        sync.Mutex
	buf       []Sample // appended, not yet encoded
	spare     []Sample // the flusher's previous buffer, for reuse
	closed    bool
	isRunning bool
	st        status

	// fileMu orders the queue file's changes (the flusher's inserts and
	// trims, the sender's progress), so the counts in st stay exact.
	fileMu         sync.Mutex
	cursor         int64 // batches up to this id are delivered or dropped
	inflight       int64 // the batch being sent, or 0
	deletedThrough int64 // batches up to this id are gone from the file
	freed          int64 // bytes deleted since the last vacuum
	vacuumAfter    int64
	queueFull      bool // queue_full drops were logged since the file was last under its bound

	flushMu sync.Mutex // one flush at a time; guards enc and unsaved
	enc     *encoder
	unsaved []batch // encoded, not yet in the queue file (write failed)

	flushNow chan struct{} // MaxSamplesPerSend samples are waiting
	wake     chan struct{} // the queue file has new rows
	closing  chan struct{}
	running  sync.WaitGroup
	once     sync.Once
	closeErr error
}

// New opens (creating if needed) the endpoint's queue file in o.Dir; batches
// left there by an earlier process are sent once Run starts.
func New(cfg config.RemoteWrite, o Options) (*Queue, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("remote write: url %q is not an http(s) URL", config.RedactURL(cfg.URL))
	}
	if cfg.Name == "" {
		cfg.Name = u.Host
	}
	q := &Queue{cfg: cfg, name: cfg.Name, url: cfg.URL, redacted: config.RedactURL(cfg.URL),
		flushNow: make(chan struct{}, 1), wake: make(chan struct{}, 1), closing: make(chan struct{})}
	if err := q.setOptions(o); err != nil {
		return nil, fmt.Errorf("remote write %q: %w", q.name, err)
	}
	for h := range cfg.Headers {
		for _, r := range reservedHeaders {
			if strings.EqualFold(h, r) {
				return nil, fmt.Errorf("remote write %q: header %s cannot be configured", q.name, r)
			}
		}
	}
	if q.client = q.opts.HTTPClient; q.client == nil {
		if q.client, err = newHTTPClient(cfg.TLSConfig); err != nil {
			return nil, fmt.Errorf("remote write %q: tls_config: %w", q.name, err)
		}
	}
	if q.cfg.Authorization == nil && (cfg.BearerToken != "" || cfg.BearerTokenFile != "") {
		// A config not completed by config.Load.
		q.cfg.Authorization = &config.Authorization{Type: "Bearer", Credentials: cfg.BearerToken, CredentialsFile: cfg.BearerTokenFile}
	}
	q.log = q.opts.Logger.With("remote", q.name, "url", q.redacted)
	q.enc = newEncoder(externalLabels(q.opts.ExternalLabels), q.max)
	if err := os.MkdirAll(q.opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("remote write %q: %w", q.name, err)
	}
	if q.m, err = newMetrics(q.opts.Registerer, q); err != nil {
		return nil, fmt.Errorf("remote write %q: %w", q.name, err)
	}
	path := filepath.Join(q.opts.Dir, fileName(q.name))
	if q.file, err = openQueueFile(context.Background(), path); err != nil {
		q.m.unregister()
		return nil, fmt.Errorf("remote write %q: %w", q.name, err)
	}
	q.st.disk = q.file.pending
	if q.st.disk.batches > 0 {
		q.log.Info("resuming remote write queue", "batches", q.st.disk.batches, "samples", q.st.disk.samples, "bytes", q.st.disk.bytes)
	}
	q.trim(context.Background()) // MaxQueueBytes may have shrunk
	return q, nil
}

func (q *Queue) setOptions(o Options) error {
	if o.Dir == "" {
		return errors.New("no queue directory")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.FlushInterval, DefaultFlushInterval)
	def(&o.MinBackoff, DefaultMinBackoff)
	def(&o.MaxBackoff, DefaultMaxBackoff)
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.MaxQueueBytes <= 0 {
		o.MaxQueueBytes = DefaultMaxQueueBytes
	}
	if o.MaxMemoryBytes <= 0 {
		o.MaxMemoryBytes = DefaultMaxMemoryBytes
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	for name := range o.ExternalLabels {
		if !config.CheckLabelName(name) {
			return fmt.Errorf("external label %q: invalid name", name)
		}
	}
	q.opts = o
	if q.max = q.cfg.MaxSamplesPerSend; q.max <= 0 {
		q.max = config.DefaultRemoteWriteBatch
	}
	if q.cfg.RemoteTimeout <= 0 {
		q.cfg.RemoteTimeout = model.Duration(30 * time.Second)
	}
	q.maxBuf = max(int(o.MaxMemoryBytes/int64(unsafe.Sizeof(Sample{}))), q.max)
	q.sleep = sleepCtx
	q.vacuumAfter = defaultVacuumAfter
	return nil
}

// Append hands samples over for sending. It only copies them into memory
// (the labels are kept, not copied: labels.Labels are immutable), so it
// never waits for the disk or the network. Beyond MaxMemoryBytes of waiting
// samples the oldest are dropped and counted.
func (q *Queue) Append(samples []Sample) {
	if len(samples) == 0 {
		return
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.m.dropped(reasonClosed, len(samples))
		return
	}
	q.buf = append(q.buf, samples...)
	for _, s := range samples {
		q.st.bufOldest.note(s.T)
	}
	dropped := 0
	if over := len(q.buf) - q.maxBuf; over > 0 {
		// bufOldest stays: a little early, until the next flush, is
		// cheaper than a pass over the whole buffer.
		dropped = over
		q.buf = q.buf[:copy(q.buf, q.buf[over:])]
	}
	full := len(q.buf) >= q.max
	q.mu.Unlock()
	if dropped > 0 {
		q.m.dropped(reasonMemoryFull, dropped)
		q.noteMemoryFull(dropped)
	}
	if full {
		select {
		case q.flushNow <- struct{}{}:
		default:
		}
	}
}

// Close stops Run, writes what is still in memory to the queue file (where it
// waits for the next process) and closes the file.
func (q *Queue) Close() error {
	q.once.Do(func() {
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
		close(q.closing)
		q.running.Wait()
		q.flush(context.Background(), true)
		q.flushMu.Lock()
		if n := int(summarize(q.unsaved).samples); n > 0 {
			q.log.Error("remote write samples lost at shutdown: the queue file cannot be written", "samples", n)
			q.m.dropped(reasonClosed, n)
		}
		q.flushMu.Unlock()
		q.m.unregister()
		q.closeErr = q.file.close()
	})
	return q.closeErr
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
