package scrape

import (
	"context"
	"hash/fnv"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// tolerance: a scrape that starts this close to its scheduled tick is
// stamped with the tick, so a target's timestamps stay exactly regular.
const tolerance = 10 * time.Millisecond

// loop scrapes one target until stopped.
type loop struct {
	m      *Manager
	key    string
	job    *job
	jm     *jobMetrics
	tl     labels.Labels // target labels: job, instance, the target's own
	log    *slog.Logger
	req    *http.Request
	reqErr error

	prev     *loop // the loop this one follows; it must finish first
	ctx      context.Context
	cancel   context.CancelFunc
	handover atomic.Bool // stopped for a successor, which takes the cache
	done     chan struct{}

	// Used by the loop goroutine only (cache is set under mu, for Metadata).
	cache    *cache
	lastSize int
	storeErr string
	dups     int

	mu         sync.Mutex
	tgt        target.Target
	health     Health
	lastErr    string
	lastScrape time.Time
	lastDur    time.Duration
}

func (m *Manager) newLoop(t target.Target, j *job, prev *loop) *loop {
	ctx, cancel := context.WithCancel(context.Background())
	l := &loop{
		m:      m,
		key:    t.Key(),
		job:    j,
		jm:     m.metrics.forJob(t.Job),
		tl:     targetLabels(t),
		log:    m.log.With("job", t.Job, "target", t.URL()),
		prev:   prev,
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		tgt:    t,
		health: HealthUnknown,
	}
	l.req, l.reqErr = j.newRequest(t)
	return l
}

func (l *loop) now() time.Time { return l.m.opts.Now() }

// stop ends the loop; with handover its successor takes its cache and no
// stale markers are written, otherwise all its series are marked stale.
func (l *loop) stop(handover bool) {
	l.handover.Store(handover)
	l.cancel()
}

func (l *loop) finished() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (l *loop) run() {
	defer close(l.done)
	l.init()
	defer l.finish()

	interval := l.job.interval
	offset := scheduleOffset(l.key, interval, l.m.opts.OffsetSeed)
	next := nextTick(l.now(), interval, offset)
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		if d := next.Sub(l.now()); d > 0 {
			if d > interval {
				// The clock went back (an injected one: Go's own clock
				// waits on its monotonic reading, which never does):
				// the first tick from now, rather than waiting it out.
				next = nextTick(l.now(), interval, offset)
				d = next.Sub(l.now())
			}
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-l.ctx.Done():
				return
			}
		}
		start := l.now()
		l.jm.delay.Observe(max(start.Sub(next), 0).Seconds())
		if !l.scrapeOnce(stamp(start, next, interval)) {
			return
		}
		next = l.advance(next, offset)
	}
}

// init takes over the predecessor's cache, once it has finished.
func (l *loop) init() {
	var c *cache
	if p := l.prev; p != nil {
		<-p.done
		if p.handover.Load() && p.cache != nil {
			c = p.cache
			labelsChanged := !sameLabels(p.target(), l.target())
			if labelsChanged || p.job.cfg.HonorLabels != l.job.cfg.HonorLabels {
				c.forgetLabels(labelsChanged)
			}
		}
		l.prev = nil
	}
	if c == nil {
		c = newCache()
	}
	l.mu.Lock()
	l.cache = c
	l.mu.Unlock()
}

// stamp is the timestamp of a scrape started at start for the tick: the
// tick itself when close to it, else the actual start (also when the wall
// clock moved against the monotonic one).
func stamp(start, tick time.Time, interval time.Duration) time.Time {
	tol := min(tolerance, interval/10)
	delay := start.Sub(tick)
	if delay > tol || delay < -tol || clockJumped(start, tick, tol) {
		return start
	}
	return tick
}

// advance returns the next tick after a scrape scheduled at tick, skipping
// (and counting) the ticks the scrape overran.
func (l *loop) advance(tick time.Time, offset time.Duration) time.Time {
	interval := l.job.interval
	tol := min(tolerance, interval/10)
	end := l.now()
	if clockJumped(end, tick, tol) {
		return nextTick(end, interval, offset) // keep the phase in wall-clock terms
	}
	next := tick.Add(interval)
	missed := 0
	for end.Sub(next) > tol {
		next = next.Add(interval)
		missed++
	}
	if missed > 0 {
		l.jm.missed.Add(float64(missed))
	}
	return next
}

// clockJumped reports whether the wall clock moved by more than tol against
// the monotonic clock between a and b.
func clockJumped(a, b time.Time, tol time.Duration) bool {
	d := a.Round(0).Sub(b.Round(0)) - a.Sub(b)
	return d > tol || d < -tol
}

// scheduleOffset is where in each interval a target is scraped: a hash of
// its key (and the seed), so targets spread evenly and each keeps its phase
// across restarts. Whole milliseconds, as timestamps are.
func scheduleOffset(key string, interval time.Duration, seed uint64) time.Duration {
	ms := uint64(interval / time.Millisecond)
	if ms == 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return time.Duration((h.Sum64()^seed)%ms) * time.Millisecond
}

// nextTick is the first instant at or after now whose Unix time is offset
// past a multiple of interval.
func nextTick(now time.Time, interval, offset time.Duration) time.Time {
	phase := time.Duration(now.UnixNano() % int64(interval))
	if phase < 0 {
		phase += interval
	}
	d := offset - phase
	if d < 0 {
		d += interval
	}
	return now.Add(d)
}

func (l *loop) target() target.Target {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tgt
}

// setTarget updates what the target's status shows (discovery facts).
func (l *loop) setTarget(t target.Target) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tgt = t
}
