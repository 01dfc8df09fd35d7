package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/chunk"
	"github.com/prometheus/prometheus/model/value"
)

// A downsampled row holds one series' day at one point per step:
//
//	version byte (1) | kind byte | streams, each uvarint length + chunk
//
// kind gauge: three streams sharing timestamps (the step's last
// millisecond): avg (6 significant digits), min, max. kind counter: one
// stream of raw samples: the last of each step plus the last before each
// reset, so rate() and increase() over downsampled data stay exact at the
// step's resolution.
const (
	dsVersion     = 1
	dsKindGauge   = 0
	dsKindCounter = 1
)

// maxResetPoints bounds the pre-reset points a counter's day keeps, so a
// counter that resets constantly cannot overflow a chunk.
const maxResetPoints = chunk.MaxSamples / 2

// Streams of a gauge row.
const (
	dsAvg = iota
	dsMin
	dsMax
)

// downsample replaces the raw chunks of each day that ended more than
// DownsampleAfter ago by downsampled rows, a day at a time.
func (s *Store) downsample(ctx context.Context, now int64) error {
	cutoff := now - s.opts.DownsampleAfter.Milliseconds()
	for _, d := range s.tables.days(rawTable) {
		if (d+1)*day > cutoff {
			break
		}
		if err := s.downsampleDay(ctx, d); err != nil {
			return fmt.Errorf("downsample day %d: %w", d, err)
		}
	}
	return nil
}

func (s *Store) downsampleDay(ctx context.Context, d int64) error {
	s.dropRecentBefore((d + 1) * day)
	rows, err := s.rdb.QueryContext(ctx, "SELECT series_id, data FROM "+tableName(rawTable, d)+" ORDER BY series_id, mint")
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		out    []chunkRow
		cur    int64 = -1
		ts     []int64
		vs     []float64
		points int
	)
	flush := func() error {
		if cur < 0 || len(ts) == 0 {
			return nil
		}
		data := s.downsampleSeries(SeriesRef(cur), d*day, ts, vs)
		out = append(out, chunkRow{ref: SeriesRef(cur), mint: d * day, maxt: (d+1)*day - 1, data: data})
		points += len(ts)
		if len(out) >= compactBatch {
			if err := s.writeDownsampled(ctx, d, out); err != nil {
				return err
			}
			out = out[:0]
		}
		return nil
	}
	for rows.Next() {
		var id int64
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return err
		}
		if id != cur {
			if err := flush(); err != nil {
				return err
			}
			cur, ts, vs = id, ts[:0], vs[:0]
		}
		if ts, vs, err = chunk.Decode(data, ts, vs); err != nil {
			s.opts.Logger.Error("skipping corrupt chunk while downsampling", "series", id, "day", d, "err", err)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	if err := flush(); err != nil {
		return err
	}
	if err := s.writeDownsampled(ctx, d, out); err != nil {
		return err
	}
	err = s.w.run(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec("DROP TABLE IF EXISTS " + tableName(rawTable, d))
		return err
	})
	if err != nil {
		return err
	}
	s.tables.set(rawTable, d, false)
	s.opts.Logger.Info("downsampled a day of raw samples", "day", dayString(d), "raw_samples", points)
	return nil
}

func (s *Store) writeDownsampled(ctx context.Context, d int64, rows []chunkRow) error {
	if len(rows) == 0 {
		return nil
	}
	err := s.w.run(ctx, func(tx *sql.Tx) error {
		if err := s.tables.ensure(tx, dsTable, d); err != nil {
			return err
		}
		st, err := tx.Prepare("INSERT OR REPLACE INTO " + tableName(dsTable, d) + " (series_id, mint, maxt, data) VALUES (?, ?, ?, ?)")
		if err != nil {
			return err
		}
		defer st.Close()
		for _, r := range rows {
			if _, err := st.Exec(int64(r.ref), r.mint, r.maxt, r.data); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.tables.set(dsTable, d, true)
	}
	return err
}

// downsampleSeries encodes one series' raw day (ts ascending).
func (s *Store) downsampleSeries(ref SeriesRef, dayStart int64, ts []int64, vs []float64) []byte {
	step := s.opts.DownsampleStep.Milliseconds()
	out := []byte{dsVersion, dsKindGauge}
	if s.isCounter(ref) {
		out[1] = dsKindCounter
		var pt []int64
		var pvs []float64
		for i := range ts {
			if value.IsStaleNaN(vs[i]) {
				continue
			}
			bucketEnd := dayStart + ((ts[i]-dayStart)/step+1)*step
			endOfBucket := i+1 == len(ts) || ts[i+1] >= bucketEnd
			resetNext := i+1 < len(ts) && vs[i+1] < vs[i] // false for NaN
			if endOfBucket || (resetNext && len(pt) < maxResetPoints) {
				pt = append(pt, ts[i])
				pvs = append(pvs, vs[i])
			}
		}
		if len(pt) == 0 {
			return append(out, 0)
		}
		return appendStream(out, chunk.Encode(nil, pt, pvs))
	}
	var pt []int64
	var avg, lo, hi []float64
	for i := 0; i < len(ts); {
		bucket := (ts[i] - dayStart) / step
		end := dayStart + (bucket+1)*step
		sum, n := 0.0, 0
		mn, mx := math.Inf(1), math.Inf(-1)
		for ; i < len(ts) && ts[i] < end; i++ {
			v := vs[i]
			if math.IsNaN(v) {
				continue
			}
			sum += v
			n++
			mn, mx = min(mn, v), max(mx, v)
		}
		if n == 0 {
			continue
		}
		pt = append(pt, end-1)
		avg = append(avg, roundSignificant(sum/float64(n), 6))
		lo = append(lo, mn)
		hi = append(hi, mx)
	}
	if len(pt) == 0 {
		return append(out, 0)
	}
	out = appendStream(out, chunk.Encode(nil, pt, avg))
	out = appendStream(out, chunk.Encode(nil, pt, lo))
	return appendStream(out, chunk.Encode(nil, pt, hi))
}

func appendStream(dst, stream []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(stream)))
	return append(dst, stream...)
}

var errCorruptDownsampled = errors.New("corrupt downsampled row")

// dsStream returns stream i of a downsampled row and its kind.
func dsStream(b []byte, i int) (kind byte, stream []byte, err error) {
	if len(b) < 2 || b[0] != dsVersion {
		return 0, nil, errCorruptDownsampled
	}
	kind, b = b[1], b[2:]
	for k := 0; ; k++ {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return kind, nil, errCorruptDownsampled
		}
		if k == i || kind == dsKindCounter {
			return kind, b[w : w+int(n)], nil
		}
		b = b[w+int(n):]
	}
}

func roundSignificant(v float64, digits int) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', digits, 64), 64)
	if err != nil {
		return v
	}
	return r
}

// isCounter says whether the series' metric is a counter, from its metadata
// or, failing that, its name.
func (s *Store) isCounter(ref SeriesRef) bool {
	s.ix.mu.RLock()
	ms := s.ix.byRef[ref]
	s.ix.mu.RUnlock()
	if ms == nil {
		return false
	}
	name := ms.lset.Get("__name__")
	s.metaMu.RLock()
	m, ok := s.metadata[name]
	s.metaMu.RUnlock()
	if ok && m.Type != "" && m.Type != "unknown" {
		return m.Type == "counter"
	}
	return strings.HasSuffix(name, "_total") || strings.HasSuffix(name, "_count") || strings.HasSuffix(name, "_sum") || strings.HasSuffix(name, "_bucket")
}
