package remotewrite

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
)

// scrapeShape is one scrape of an 8-GPU node as gpuwd sees it: 600 series of
// 8 labels (dcgm-exporter's names and labels).
func scrapeShape(node int) []Sample {
	out := make([]Sample, 0, 600)
	host := "gpu-node-" + strconv.Itoa(node)
	for m := range 75 {
		for g := range 8 {
			ls := labels.FromStrings("__name__", "DCGM_FI_DEV_METRIC_"+strconv.Itoa(m), "gpu", strconv.Itoa(g),
				"UUID", "GPU-5fd4a1b2-7c3e-11ef-9a0b-00000000000"+strconv.Itoa(g), "device", "nvidia"+strconv.Itoa(g),
				"modelName", "NVIDIA H100 80GB HBM3", "Hostname", host, "instance", host+":9400", "job", "gpuwd")
			out = append(out, Sample{Labels: ls})
		}
	}
	return out
}

// stamp sets a scrape's time and values.
func stamp(scrape []Sample, i int) {
	for j := range scrape {
		scrape[j].T = t0 + int64(i)*15000
		scrape[j].V = float64(i*j%977) + 0.5
	}
}

// BenchmarkAppend is what a scrape waits for: the copy into the buffer.
func BenchmarkAppend(b *testing.B) {
	q := newQueue(b, config.RemoteWrite{URL: "http://127.0.0.1:1/w"}, Options{})
	scrape := scrapeShape(1)
	for i := 0; b.Loop(); i++ {
		stamp(scrape, i)
		q.Append(scrape)
		if len(q.buf) >= q.max {
			q.buf = q.buf[:0] // as a flush would take it
		}
	}
	b.ReportMetric(float64(b.N*600)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkAppendEncode is the work a scrape costs the aggregator for
// remote write, without the disk: Append, then grouping and encoding into
// snappy-compressed requests of MaxSamplesPerSend (2000) samples.
func BenchmarkAppendEncode(b *testing.B) {
	q := newQueue(b, config.RemoteWrite{URL: "http://127.0.0.1:1/w"}, Options{ExternalLabels: map[string]string{"cluster": "dc1"}})
	scrapes := [][]Sample{scrapeShape(1), scrapeShape(2), scrapeShape(3), scrapeShape(4)}
	var out []batch
	var bytes, samples int
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s := scrapes[i%len(scrapes)]
		stamp(s, i)
		q.Append(s)
		if len(q.buf) >= q.max {
			out = q.enc.encode(q.buf[:q.max], out[:0])
			q.buf = q.buf[:copy(q.buf, q.buf[q.max:])]
			for _, o := range out {
				bytes += len(o.body)
				samples += o.samples
			}
		}
	}
	b.ReportMetric(float64(b.N*600)/b.Elapsed().Seconds(), "samples/s")
	if samples > 0 {
		b.ReportMetric(float64(bytes)/float64(samples), "bytes/sample")
	}
}

// BenchmarkAppendPersist adds the queue file: what the flusher does, SQLite
// writes included.
func BenchmarkAppendPersist(b *testing.B) {
	q := newQueue(b, config.RemoteWrite{URL: "http://127.0.0.1:1/w"}, Options{})
	scrape := scrapeShape(1)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		stamp(scrape, i)
		q.Append(scrape)
		q.flush(ctx, false)
	}
	b.ReportMetric(float64(b.N*600)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkDelivery is the whole way: Append, queue file, HTTP to a
// receiver on 127.0.0.1 that reads and discards the bodies.
func BenchmarkDelivery(b *testing.B) {
	srv := newReceiver(b, nil)
	srv.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	q := newQueue(b, config.RemoteWrite{URL: srv.url()}, Options{})
	scrape := scrapeShape(1)
	stop := run(q)
	defer stop()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		stamp(scrape, i)
		q.Append(scrape)
	}
	waitFor(b, "delivery", delivered(q))
	b.ReportMetric(float64(b.N*600)/time.Since(start).Seconds(), "samples/s")
}
