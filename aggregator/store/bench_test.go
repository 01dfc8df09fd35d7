package store

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/api"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/benchdata"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// The store's benchmarks, on DCGM-like data from package benchdata, side by
// side with a real Prometheus (promtool and prometheus on PATH) where there
// is one to compare with. See BENCHMARKS.md for the figures and how to run
// them; each is sized to finish in minutes on two cores.

const scrapeInterval = 15 * time.Second

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func refOf(b testing.TB, s *Store, lset labels.Labels) SeriesRef {
	b.Helper()
	ref, err := s.Ref(lset)
	if err != nil {
		b.Fatal(err)
	}
	return ref
}

// ---------------------------------------------------------------------------
// Ingestion

// appendLoops is how many scrape loops append at once in BenchmarkAppend.
const appendLoops = 100

// reportSeries are the series a scrape adds to each target's samples.
var reportSeries = []string{"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"}

// BenchmarkAppend is 100 scrape loops, each appending one whole scrape of
// its own gpuwd-agent --simulate h100x8 (536 series and the 5 report
// series: 541 samples, the agent's series with benchdata's values) every simulated
// 15 s, as fast as the store takes them, while maintenance compacts closed
// windows. As real scrape loops, which share the wall clock, no loop runs
// more than a minute of simulated time ahead of the slowest, and the clock
// maintenance reads is the slowest loop's, so no sample is ever too old. b.N
// is the number of Append calls in all, split evenly among the loops;
// -benchtime 32000x is 320 scrapes a loop, 80 simulated minutes, during
// which two 30-minute windows (6.5 M samples each) are compacted (see the
// chunks metric). The time counts until the appends and the maintenance
// round in flight have both finished.
func BenchmarkAppend(b *testing.B) {
	// sync=normal is the default: a commit survives the process being
	// killed; sync=full (Options.SyncFull) survives power loss too, with an
	// fsync per group commit.
	for _, full := range []bool{false, true} {
		b.Run(map[bool]string{false: "sync=normal", true: "sync=full"}[full], func(b *testing.B) { benchmarkAppend(b, full) })
	}
}

func benchmarkAppend(b *testing.B, syncFull bool) {
	const (
		pregen = 120 // distinct scrapes per loop, then repeated with new timestamps
		lead   = 4   // scrapes a loop may run ahead of the slowest
	)
	ctx := context.Background()
	c := &clock{t: t0}
	s, err := Open(ctx, b.TempDir(), Options{Now: c.Now, MaintenanceInterval: time.Hour, SyncFull: syncFull})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	fleet := benchdata.New(benchdata.Options{Nodes: appendLoops, Metrics: benchdata.AllMetrics(), Self: true})
	type loop struct {
		refs   []SeriesRef
		values [][]float64
		done   int64 // scrapes appended, under mu
		lat    []time.Duration
	}
	loops := make([]*loop, appendLoops)
	for i, node := range fleet.Nodes() {
		l := &loop{}
		for _, sr := range node.Series() {
			l.refs = append(l.refs, refOf(b, s, sr.Labels))
		}
		for _, name := range reportSeries {
			l.refs = append(l.refs, refOf(b, s, labels.FromStrings("__name__", name, "instance", node.Hostname+":9400", "job", "gpuwd-agent")))
		}
		for k := range pregen {
			v := node.Next(nil)
			v = append(v, 1, 0.004+float64(k%7)/1000, float64(len(v)), float64(len(v)), 0)
			l.values = append(l.values, v)
		}
		loops[i] = l
	}
	perBatch := len(loops[0].refs)
	scrapes := max(1, b.N/appendLoops) // per loop, after the untimed first

	// Scrape 0 of every loop, untimed: it creates the series rows and the
	// head chunks, once in a store's life.
	for _, l := range loops {
		batch := make([]Sample, len(l.refs))
		for j, v := range l.values[0] {
			batch[j] = Sample{Ref: l.refs[j], T: t0.UnixMilli(), V: v}
		}
		if err := s.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
		l.done = 1
	}

	var mu sync.Mutex
	moved := sync.NewCond(&mu)
	slowest := int64(1)
	progress := func(l *loop, k int64) {
		mu.Lock()
		defer mu.Unlock()
		l.done = k
		low := int64(math.MaxInt64)
		for _, o := range loops {
			low = min(low, o.done)
		}
		if low != slowest {
			slowest = low
			moved.Broadcast()
		}
	}
	stop := make(chan struct{})
	maintDone := make(chan time.Duration)
	b.ResetTimer()
	go func() {
		var busy time.Duration
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				maintDone <- busy
				return
			case <-tick.C:
			}
			mu.Lock()
			c.Set(t0.Add(time.Duration(slowest) * scrapeInterval))
			mu.Unlock()
			start := time.Now()
			if err := s.Maintain(ctx); err != nil {
				b.Error(err)
			}
			busy += time.Since(start)
		}
	}()
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Go(func() {
			batch := make([]Sample, len(l.refs))
			for k := int64(1); k <= int64(scrapes); k++ {
				mu.Lock()
				for k > slowest+lead {
					moved.Wait()
				}
				mu.Unlock()
				ts := t0.Add(time.Duration(k) * scrapeInterval).UnixMilli()
				for j, v := range l.values[k%pregen] {
					batch[j] = Sample{Ref: l.refs[j], T: ts, V: v}
				}
				start := time.Now()
				if err := s.Append(ctx, batch); err != nil {
					b.Error(err)
					return
				}
				l.lat = append(l.lat, time.Since(start))
				progress(l, k+1)
			}
		})
	}
	wg.Wait()
	close(stop)
	maint := <-maintDone
	elapsed := b.Elapsed()
	b.StopTimer()

	var lat []time.Duration
	for _, l := range loops {
		lat = append(lat, l.lat...)
	}
	slices.Sort(lat)
	total := float64(appendLoops * scrapes * perBatch)
	b.ReportMetric(total/elapsed.Seconds(), "samples/s")
	b.ReportMetric(float64(perBatch), "samples/append")
	b.ReportMetric(counterValue(s.m.chunksWritten), "chunks")
	b.ReportMetric(maint.Seconds(), "maintain-s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "append-p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "append-p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "append-max-ms")
	var rejected float64
	for _, r := range []string{"too_old", "out_of_order", "unknown_series"} {
		rejected += counterValue(s.m.rejected.WithLabelValues(r))
	}
	if rejected > 0 {
		b.Errorf("%v samples rejected", rejected)
	}
}

// ---------------------------------------------------------------------------
// Shared: a fleet's samples in memory, into the store, into Prometheus.

// dataset is a fleet's scrapes: values[k][j] is series j at scrape k.
type dataset struct {
	series []benchdata.Series
	start  time.Time
	values [][]float64
}

func (d *dataset) end() time.Time {
	return d.start.Add(time.Duration(len(d.values)-1) * scrapeInterval)
}

func (d *dataset) samples(keep func(benchdata.Series) bool) int {
	n := 0
	for _, s := range d.series {
		if keep(s) {
			n++
		}
	}
	return n * len(d.values)
}

func makeDataset(o benchdata.Options, start time.Time, span time.Duration) *dataset {
	f := benchdata.New(o)
	d := &dataset{series: f.Series(), start: start}
	for range int(span/scrapeInterval) + 1 {
		d.values = append(d.values, f.Next(nil))
	}
	return d
}

func all(benchdata.Series) bool { return true }

// ingest appends the dataset's series that keep accepts into s, a scrape at
// a time with the clock following, and maintains every 5 simulated minutes;
// the clock stops at the last scrape, after a last maintenance.
func ingest(b testing.TB, s *Store, c *clock, d *dataset, keep func(benchdata.Series) bool) {
	ctx := context.Background()
	c.Set(d.start)
	var idx []int
	var refs []SeriesRef
	for j, sr := range d.series {
		if keep(sr) {
			idx = append(idx, j)
			refs = append(refs, refOf(b, s, sr.Labels))
		}
	}
	batch := make([]Sample, len(idx))
	for k, vals := range d.values {
		ts := d.start.Add(time.Duration(k) * scrapeInterval)
		c.Set(ts)
		for i, j := range idx {
			batch[i] = Sample{Ref: refs[i], T: ts.UnixMilli(), V: vals[j]}
		}
		if err := s.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
		if k%20 == 19 {
			if err := s.Maintain(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := s.Maintain(ctx); err != nil {
		b.Fatal(err)
	}
}

// writeOpenMetrics writes the kept series' samples as OpenMetrics files for
// promtool, one file per 2-hour block range (promtool reads its whole input
// once per block it writes, so one file per block reads everything once).
func writeOpenMetrics(b testing.TB, dir string, d *dataset, keep func(benchdata.Series) bool) []string {
	const block = int64(2 * time.Hour / time.Millisecond)
	var names [][]byte
	var idx []int
	for j, sr := range d.series {
		if keep(sr) {
			idx = append(idx, j)
			names = append(names, openMetricsSeries(sr.Labels))
		}
	}
	var files []string
	var f *os.File
	var w *bufio.Writer
	closeFile := func() {
		if f == nil {
			return
		}
		if _, err := w.WriteString("# EOF\n"); err != nil {
			b.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	cur := int64(-1)
	var line []byte
	for k, vals := range d.values {
		ts := d.start.Add(time.Duration(k) * scrapeInterval).UnixMilli()
		if blk := ts / block; blk != cur {
			closeFile()
			cur = blk
			name := filepath.Join(dir, fmt.Sprintf("block-%d.om", blk))
			var err error
			if f, err = os.Create(name); err != nil {
				b.Fatal(err)
			}
			w = bufio.NewWriterSize(f, 1<<20)
			files = append(files, name)
		}
		for i, j := range idx {
			line = append(line[:0], names[i]...)
			line = append(line, ' ')
			line = strconv.AppendFloat(line, vals[j], 'g', -1, 64)
			line = append(line, ' ')
			line = strconv.AppendInt(line, ts/1000, 10)
			line = append(line, '\n')
			w.Write(line)
		}
	}
	closeFile()
	return files
}

// openMetricsSeries is name{label="value",…} (no value needs escaping).
func openMetricsSeries(lset labels.Labels) []byte {
	var out []byte
	out = append(out, lset.Get("__name__")...)
	out = append(out, '{')
	first := true
	lset.Range(func(l labels.Label) {
		if l.Name == "__name__" {
			return
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, l.Name...)
		out = append(out, '=')
		out = strconv.AppendQuote(out, l.Value)
	})
	return append(out, '}')
}

// backfill runs promtool tsdb create-blocks-from openmetrics on each file
// into dir.
func backfill(b testing.TB, promtool, dir string, files []string) {
	for _, f := range files {
		out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", f, dir).CombinedOutput()
		if err != nil {
			b.Fatalf("promtool on %s: %v\n%s", f, err, out)
		}
		os.Remove(f)
	}
}

// blockMeta is what these benchmarks read of a block's meta.json.
type blockMeta struct {
	dir              string
	MinTime, MaxTime int64
	Stats            struct{ NumSamples, NumSeries, NumChunks int64 }
	Compaction       struct{ Level int }
}

func blocks(b testing.TB, dir string) []blockMeta {
	metas, err := filepath.Glob(filepath.Join(dir, "*", "meta.json"))
	if err != nil {
		b.Fatal(err)
	}
	var out []blockMeta
	for _, m := range metas {
		raw, err := os.ReadFile(m)
		if err != nil {
			continue // being compacted away
		}
		var bm blockMeta
		if err := json.Unmarshal(raw, &bm); err != nil {
			b.Fatal(err)
		}
		bm.dir = filepath.Dir(m)
		out = append(out, bm)
	}
	return out
}

// blockSize is a block's bytes: chunk segments, index and the rest (meta,
// tombstones).
type blockSize struct{ chunks, index, other int64 }

func (s blockSize) total() int64 { return s.chunks + s.index + s.other }

func (s *blockSize) add(o blockSize) { s.chunks += o.chunks; s.index += o.index; s.other += o.other }

func sizeOfBlock(b testing.TB, dir string) blockSize {
	var sz blockSize
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		switch {
		case filepath.Base(filepath.Dir(p)) == "chunks":
			sz.chunks += fi.Size()
		case fi.Name() == "index":
			sz.index += fi.Size()
		default:
			sz.other += fi.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return sz
}

// prometheusServer is a real Prometheus on a TSDB directory, scraping
// nothing.
type prometheusServer struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	log  *os.File
}

func startPrometheus(b testing.TB, bin, dataDir string) *prometheusServer {
	b.Helper()
	tmp := b.TempDir()
	cfg := filepath.Join(tmp, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(tmp, "prometheus.log"))
	if err != nil {
		b.Fatal(err)
	}
	p := &prometheusServer{url: "http://" + addr, done: make(chan struct{}), log: logf,
		cmd: exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+dataDir, "--storage.tsdb.retention.time=3650d",
			"--web.listen-address="+addr, "--log.level=warn")}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	b.Cleanup(p.stop)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(p.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			b.Fatalf("prometheus exited:\n%s", p.logs())
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("prometheus not ready after 2m:\n%s", p.logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (p *prometheusServer) logs() string {
	raw, _ := os.ReadFile(p.log.Name())
	return string(raw)
}

func (p *prometheusServer) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	p.log.Close()
}

// metric reads the sum of a metric's samples from p's /metrics.
func (p *prometheusServer) metric(b testing.TB, name string) float64 {
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

// ---------------------------------------------------------------------------
// Disk

// diskData is 10 nodes × 8 GPUs × the 25 core metrics at 15 s, over
// GPUWD_DISK_HOURS (default 6: 2000 series, 2.88 M samples). It starts at a
// UTC midnight, so Prometheus' 2-hour blocks and our 30-minute windows line
// up with it.
var diskData = sync.OnceValue(func() *dataset {
	hours := 6
	if h, err := strconv.Atoi(os.Getenv("GPUWD_DISK_HOURS")); err == nil && h > 0 {
		hours = h
	}
	return makeDataset(benchdata.Options{Nodes: 10}, t0, time.Duration(hours)*time.Hour-scrapeInterval)
})

// ourSize is the store's on-disk size after everything is compacted and the
// SQLite WAL is checkpointed: the file as it is (no VACUUM), the pages in
// use (the file less its free pages) and the compressed chunks' own bytes
// by kind.
type ourSize struct {
	file, used int64
	chunkBytes map[benchdata.Kind]int64
	tables     map[string]*tableStat // from SQLite's dbstat, chunk tables together
}

type tableStat struct{ pages, bytes, unused, payload int64 }

func measureOurs(b testing.TB, d *dataset, keep func(benchdata.Series) bool) ourSize {
	ctx := context.Background()
	c := &clock{t: d.start}
	s := openTest(b, b.TempDir(), c)
	ingest(b, s, c, d, keep)
	c.Set(d.end().Add(time.Hour)) // every window closed
	if err := s.Maintain(ctx); err != nil {
		b.Fatal(err)
	}
	if got, want := s.compactedThrough.Load(), d.end().UnixMilli(); got <= want {
		b.Fatalf("compacted through %d, before the last sample %d", got, want)
	}
	if _, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	var pages, free, pageSize int64
	for q, v := range map[string]*int64{"PRAGMA page_count": &pages, "PRAGMA freelist_count": &free, "PRAGMA page_size": &pageSize} {
		if err := s.db.QueryRowContext(ctx, q).Scan(v); err != nil {
			b.Fatal(err)
		}
	}
	kindOf := map[SeriesRef]benchdata.Kind{}
	for _, sr := range d.series {
		if keep(sr) {
			kindOf[refOf(b, s, sr.Labels)] = sr.Kind
		}
	}
	out := ourSize{file: fileSize(s.path), used: (pages - free) * pageSize, chunkBytes: map[benchdata.Kind]int64{}}
	for _, day := range s.tables.days(rawTable) {
		rows, err := s.db.QueryContext(ctx, "SELECT series_id, length(data) FROM "+tableName(rawTable, day))
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var id, n int64
			if err := rows.Scan(&id, &n); err != nil {
				b.Fatal(err)
			}
			out.chunkBytes[kindOf[SeriesRef(id)]] += n
		}
		if err := rows.Close(); err != nil {
			b.Fatal(err)
		}
	}
	out.tables = map[string]*tableStat{}
	rows, err := s.db.QueryContext(ctx, "SELECT name, count(*), sum(pgsize), sum(unused), sum(payload) FROM dbstat GROUP BY name")
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var name string
		var st tableStat
		if err := rows.Scan(&name, &st.pages, &st.bytes, &st.unused, &st.payload); err != nil {
			b.Fatal(err)
		}
		if strings.HasPrefix(name, rawTable+"_") {
			name = rawTable + "_*"
		}
		t := out.tables[name]
		if t == nil {
			t = &tableStat{}
			out.tables[name] = t
		}
		t.pages, t.bytes, t.unused, t.payload = t.pages+st.pages, t.bytes+st.bytes, t.unused+st.unused, t.payload+st.payload
	}
	if err := rows.Close(); err != nil {
		b.Fatal(err)
	}
	if w := fileSize(s.path + "-wal"); w > 0 {
		b.Fatalf("WAL still %d bytes after the checkpoint", w)
	}
	return out
}

// promSize backfills the kept series with promtool and returns the blocks'
// sizes, as backfilled (2-hour blocks).
func measurePrometheus(b testing.TB, promtool, dir string, d *dataset, keep func(benchdata.Series) bool) (blockSize, []blockMeta) {
	backfill(b, promtool, dir, writeOpenMetrics(b, b.TempDir(), d, keep))
	var sz blockSize
	bl := blocks(b, dir)
	var samples int64
	for _, m := range bl {
		sz.add(sizeOfBlock(b, m.dir))
		samples += m.Stats.NumSamples
	}
	if want := d.samples(keep); samples != int64(want) {
		b.Fatalf("promtool wrote %d samples, want %d", samples, want)
	}
	return sz, bl
}

// compactWithPrometheus has a real Prometheus compact the backfilled 2-hour
// blocks as it would its own, and returns the size of the blocks holding the
// dataset afterwards. Prometheus leaves the newest block alone and compacts
// a range only when it is full or older than the newest block it considers,
// so two one-sample blocks follow the data first (in the next two 2-hour
// ranges). Its compaction loop runs a minute after start; it is done when
// the loaded blocks have not changed for 15 s after a compaction.
func compactWithPrometheus(b testing.TB, promtool, prom, dir string, d *dataset) (blockSize, int, bool) {
	marker := filepath.Join(b.TempDir(), "marker.om")
	next, after := d.end().Add(time.Hour).Unix(), d.end().Add(3*time.Hour).Unix()
	if err := os.WriteFile(marker, fmt.Appendf(nil, "benchdata_marker 1 %d\nbenchdata_marker 1 %d\n# EOF\n", next, after), 0o600); err != nil {
		b.Fatal(err)
	}
	backfill(b, promtool, dir, []string{marker})
	p := startPrometheus(b, prom, dir)
	defer p.stop()
	if !p.settle(b, 5*time.Minute) {
		b.Logf("prometheus' compaction did not settle within 5 minutes:\n%s", p.logs())
		return blockSize{}, 0, false
	}
	p.stop()
	var sz blockSize
	n := 0
	for _, m := range blocks(b, dir) {
		if m.MinTime <= d.end().UnixMilli() {
			sz.add(sizeOfBlock(b, m.dir))
			n++
		}
	}
	return sz, n, true
}

// settle waits for Prometheus' first compaction (a minute after start) and
// then until its loaded blocks have not changed for 15 s.
func (p *prometheusServer) settle(b testing.TB, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	last, same := -1.0, 0
	for same < 3 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Second)
		n := p.metric(b, "prometheus_tsdb_blocks_loaded")
		switch {
		case p.metric(b, "prometheus_tsdb_compactions_total") == 0:
		case n == last:
			same++
		default:
			last, same = n, 0
		}
	}
	return true
}

// BenchmarkDiskBytesPerSample stores the same 2.88 M DCGM-like samples (10
// nodes × 8 GPUs × 25 metrics, 6 h at 15 s; GPUWD_DISK_HOURS changes the
// span) in the store and, with promtool, in Prometheus' TSDB, and reports the
// bytes a sample takes on disk in each. Ours: the database file after every
// window is compacted and the SQLite WAL checkpointed, no VACUUM (file), the
// pages in use in it (used: the file less free pages), and the compressed
// chunks alone (chunk). Prometheus: the backfilled 2-hour blocks (2h), their
// chunk files alone (chunk; compaction copies chunks unchanged), and for
// kind=all the blocks after a real Prometheus has compacted them (about 90 s
// more). Run with -benchtime 1x.
func BenchmarkDiskBytesPerSample(b *testing.B) {
	promtool := testenv.LookPath(b, "promtool")
	promBin := testenv.LookPath(b, "prometheus")
	d := diskData()
	runs := []struct {
		name string
		keep func(benchdata.Series) bool
	}{{"all", all}}
	for _, k := range benchdata.Kinds() {
		if k != benchdata.Self {
			runs = append(runs, struct {
				name string
				keep func(benchdata.Series) bool
			}{k.String(), func(s benchdata.Series) bool { return s.Kind == k }})
		}
	}
	for _, r := range runs {
		b.Run("kind="+r.name, func(b *testing.B) {
			samples := float64(d.samples(r.keep))
			for b.Loop() {
				ours := measureOurs(b, d, r.keep)
				dir := b.TempDir()
				prom, bl := measurePrometheus(b, promtool, dir, d, r.keep)
				var chunkBytes int64
				for _, n := range ours.chunkBytes {
					chunkBytes += n
				}
				b.ReportMetric(samples, "samples")
				b.ReportMetric(float64(ours.file)/samples, "ours-file-B/sample")
				b.ReportMetric(float64(ours.used)/samples, "ours-used-B/sample")
				b.ReportMetric(float64(chunkBytes)/samples, "ours-chunk-B/sample")
				b.ReportMetric(float64(prom.total())/samples, "prom-2h-B/sample")
				b.ReportMetric(float64(prom.chunks)/samples, "prom-chunk-B/sample")
				b.ReportMetric(float64(len(bl)), "prom-blocks")
				b.ReportMetric(float64(ours.file)/float64(prom.total()), "ours/prom-2h")
				b.ReportMetric(float64(chunkBytes)/float64(prom.chunks), "ours/prom-chunks")
				if r.name != "all" {
					continue
				}
				// One line each: the test framework keeps only the first
				// lines of a benchmark's log.
				var tables, kinds []string
				for _, name := range slices.Sorted(maps.Keys(ours.tables)) {
					if t := ours.tables[name]; t.pages > 1 {
						tables = append(tables, fmt.Sprintf("%s %d pages (payload %d, unused %d)", name, t.pages, t.payload, t.unused))
					}
				}
				for _, k := range benchdata.Kinds() {
					if n := d.samples(func(s benchdata.Series) bool { return s.Kind == k }); n > 0 {
						kinds = append(kinds, fmt.Sprintf("%s %.3f", k, float64(ours.chunkBytes[k])/float64(n)))
					}
				}
				b.Logf("our file: %d bytes: %d in pages in use, %d in free pages; %s", ours.file, ours.used, ours.file-ours.used, strings.Join(tables, "; "))
				b.Logf("our chunk bytes/sample by kind: %s", strings.Join(kinds, ", "))
				if compacted, n, ok := compactWithPrometheus(b, promtool, promBin, dir, d); ok {
					b.ReportMetric(float64(n), "prom-compacted-blocks")
					b.ReportMetric(float64(compacted.total())/samples, "prom-compacted-B/sample")
					b.ReportMetric(float64(compacted.index)/samples, "prom-compacted-index-B/sample")
					b.ReportMetric(float64(ours.file)/float64(compacted.total()), "ours/prom-compacted")
					b.ReportMetric(float64(ours.used)/float64(compacted.total()), "ours-used/prom-compacted")
				}
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Query

// queryData is DCGM_FI_DEV_GPU_UTIL of 100 nodes × 8 GPUs over the 24 h
// before the last whole 6 hours (so every Prometheus block lies in the past
// and block boundaries line up), at 15 s: 800 series, 4.6 M samples.
var queryData = sync.OnceValue(func() *dataset {
	end := time.Now().UTC().Truncate(6 * time.Hour)
	return makeDataset(benchdata.Options{Nodes: 100, Metrics: []string{"DCGM_FI_DEV_GPU_UTIL"}}, end.Add(-24*time.Hour), 24*time.Hour-scrapeInterval)
})

var queryExprs = []struct{ name, expr string }{
	{"raw", "DCGM_FI_DEV_GPU_UTIL"},
	{"avg-by-host", "avg by (hostname) (DCGM_FI_DEV_GPU_UTIL)"},
}

var querySteps = []time.Duration{time.Minute, 5 * time.Minute}

// queryResult is the shape of a query_range answer, for comparing ours with
// Prometheus'.
type queryResult struct {
	Status string
	Data   struct {
		Result []struct {
			Metric map[string]string
			Values [][2]any
		}
	}
}

func queryRangeHTTP(b testing.TB, base, expr string, start, end time.Time, step time.Duration) []byte {
	q := url.Values{"query": {expr}, "start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}
	resp, err := http.Get(base + "/api/v1/query_range?" + q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b.Fatalf("%s: %s: %s", base, resp.Status, body)
	}
	return body
}

// sameAnswer checks that two query_range bodies hold the same series and
// points (values within 1e-9, relative).
func sameAnswer(b testing.TB, ours, theirs []byte) (series, points int) {
	var a, p queryResult
	if err := json.Unmarshal(ours, &a); err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(theirs, &p); err != nil {
		b.Fatal(err)
	}
	key := func(m map[string]string) string {
		ks := make([]string, 0, len(m))
		for k, v := range m {
			ks = append(ks, k+"="+v)
		}
		slices.Sort(ks)
		return strings.Join(ks, ",")
	}
	theirsBy := map[string][][2]any{}
	for _, r := range p.Data.Result {
		theirsBy[key(r.Metric)] = r.Values
	}
	if len(a.Data.Result) != len(p.Data.Result) {
		b.Fatalf("%d series, Prometheus %d", len(a.Data.Result), len(p.Data.Result))
	}
	for _, r := range a.Data.Result {
		tv, ok := theirsBy[key(r.Metric)]
		if !ok || len(tv) != len(r.Values) {
			b.Fatalf("series %v: %d points, Prometheus %d", r.Metric, len(r.Values), len(tv))
		}
		for i, v := range r.Values {
			x, _ := strconv.ParseFloat(v[1].(string), 64)
			y, _ := strconv.ParseFloat(tv[i][1].(string), 64)
			if v[0].(float64) != tv[i][0].(float64) || math.Abs(x-y) > 1e-9*math.Max(1, math.Abs(y)) {
				b.Fatalf("series %v point %d: %v, Prometheus %v", r.Metric, i, v, tv[i])
			}
		}
		points += len(r.Values)
	}
	return len(a.Data.Result), points
}

// queryEnv is the query benchmark's setup: the data in our store (head and
// chunks as after a day of scraping) behind the API on an httptest server,
// and in a Prometheus that has compacted its backfill.
type queryEnv struct {
	d      *dataset
	s      *Store
	engine *promql.Engine
	ours   string // our API's base URL
	prom   string // Prometheus' base URL
	blocks float64
}

func setupQuery(b *testing.B) *queryEnv {
	promtool := testenv.LookPath(b, "promtool")
	promBin := testenv.LookPath(b, "prometheus")
	e := &queryEnv{d: queryData(), engine: newEngine()}
	c := &clock{t: e.d.start}
	e.s = openTest(b, b.TempDir(), c)
	start := time.Now()
	ingest(b, e.s, c, e.d, all)
	b.Logf("our store: %d samples ingested in %v; compacted through %v, the rest in the head", e.d.samples(all),
		time.Since(start).Round(time.Millisecond), time.UnixMilli(e.s.compactedThrough.Load()).UTC())
	mux := http.NewServeMux()
	api.New(api.Options{Queryable: e.s, Engine: e.engine}).Register(mux)
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	e.ours = srv.URL

	start = time.Now()
	tsdbDir := b.TempDir()
	backfill(b, promtool, tsdbDir, writeOpenMetrics(b, b.TempDir(), e.d, all))
	b.Logf("promtool: %d blocks in %v", len(blocks(b, tsdbDir)), time.Since(start).Round(time.Millisecond))
	p := startPrometheus(b, promBin, tsdbDir)
	if !p.settle(b, 5*time.Minute) {
		b.Logf("prometheus' compaction did not settle within 5 minutes; querying it as it is")
	}
	e.prom = p.url
	e.blocks = p.metric(b, "prometheus_tsdb_blocks_loaded")
	b.Logf("prometheus: %v blocks loaded after its compaction", e.blocks)
	return e
}

// BenchmarkQueryRange times a 24 h range query over 800 GPU series
// (DCGM_FI_DEV_GPU_UTIL of 100 nodes × 8 GPUs, 4.6 M samples) at 60 s and
// 5 m steps, raw and averaged by host: ours through the PromQL engine in
// process, ours through the HTTP API, and a real Prometheus 2.42 over HTTP
// on the same samples (backfilled with promtool, compacted by itself).
// Setup takes a few minutes (ingestion, promtool, Prometheus' first
// compaction) and runs once per -count; use -benchtime 5x -count 1. The
// answers are checked to be the same before anything is timed.
func BenchmarkQueryRange(b *testing.B) {
	e := setupQuery(b)
	end := e.d.end()
	start := end.Add(-24 * time.Hour)
	for _, q := range queryExprs {
		for _, step := range querySteps {
			name := fmt.Sprintf("%s/step=%s", q.name, strings.TrimSuffix(step.String(), "0s"))
			ours := queryRangeHTTP(b, e.ours, q.expr, start, end, step)
			series, points := sameAnswer(b, ours, queryRangeHTTP(b, e.prom, q.expr, start, end, step))
			report := func(b *testing.B, times []time.Duration) {
				slices.Sort(times)
				b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
				b.ReportMetric(float64(series), "series")
				b.ReportMetric(float64(points), "points")
			}
			b.Run("gpuwd-engine/"+name, func(b *testing.B) {
				var times []time.Duration
				for b.Loop() {
					t := time.Now()
					qry, err := e.engine.NewRangeQuery(context.Background(), e.s, nil, q.expr, start, end, step)
					if err != nil {
						b.Fatal(err)
					}
					res := qry.Exec(context.Background())
					if res.Err != nil {
						b.Fatal(res.Err)
					}
					qry.Close()
					times = append(times, time.Since(t))
				}
				report(b, times)
			})
			b.Run("gpuwd-http/"+name, func(b *testing.B) {
				var times []time.Duration
				for b.Loop() {
					t := time.Now()
					queryRangeHTTP(b, e.ours, q.expr, start, end, step)
					times = append(times, time.Since(t))
				}
				report(b, times)
			})
			b.Run("prometheus-http/"+name, func(b *testing.B) {
				var times []time.Duration
				for b.Loop() {
					t := time.Now()
					queryRangeHTTP(b, e.prom, q.expr, start, end, step)
					times = append(times, time.Since(t))
				}
				report(b, times)
				b.ReportMetric(e.blocks, "blocks")
			})
		}
	}
}

// BenchmarkCompactionStall fills one 30-minute window for 100,000 series
// (100 agents of 1,000, one append each per 15 s, as scrapes append), then
// compacts it while one more agent appends every 10 ms, and reports the
// longest such append: how long a scrape can wait behind maintenance.
//
//	go test -run '^$' -bench BenchmarkCompactionStall -benchtime 1x -count 3 ./aggregator/store/
func BenchmarkCompactionStall(b *testing.B) {
	const agents, perAgent = 100, 1000
	for range b.N {
		b.StopTimer()
		c := &clock{t: t0}
		s, err := Open(context.Background(), b.TempDir(), Options{Now: c.Now, MaintenanceInterval: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		refs := make([][]SeriesRef, agents+1)
		for a := range refs {
			for j := range perAgent {
				refs[a] = append(refs[a], mustRef(b, s, "__name__", "m"+strconv.Itoa(j%50), "instance", strconv.Itoa(a), "s", strconv.Itoa(j)))
			}
		}
		batch := make([]Sample, perAgent)
		appendAt := func(a int, t int64) (time.Duration, error) {
			for j, r := range refs[a] {
				batch[j] = Sample{Ref: r, T: t, V: float64(j)}
			}
			start := time.Now()
			err := s.Append(context.Background(), batch)
			return time.Since(start), err
		}
		last := t0
		for i := range 130 { // past the window's end and grace
			last = t0.Add(time.Duration(i) * 15 * time.Second)
			for a := range agents {
				if _, err := appendAt(a, last.UnixMilli()); err != nil {
					b.Fatal(err)
				}
			}
		}
		c.Set(last.Add(10 * time.Minute))
		done := make(chan time.Duration)
		stop := make(chan struct{})
		go func() {
			var longest time.Duration
			for k := int64(1); ; k++ {
				select {
				case <-stop:
					done <- longest
					return
				case <-time.After(10 * time.Millisecond):
				}
				took, err := appendAt(agents, last.UnixMilli()+k)
				if err != nil {
					panic(err)
				}
				longest = max(longest, took)
			}
		}()
		b.StartTimer()
		if err := s.Maintain(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		close(stop)
		b.ReportMetric(float64((<-done).Milliseconds()), "max-append-ms")
		s.Close()
	}
}
