// Package tmpdeps pins the aggregator's dependencies while its packages are
// written in parallel; it is deleted once they import them.
package tmpdeps

import (
	_ "github.com/golang/snappy"
	_ "github.com/prometheus/prometheus/model/labels"
	_ "github.com/prometheus/prometheus/model/textparse"
	_ "github.com/prometheus/prometheus/prompb"
	_ "github.com/prometheus/prometheus/promql"
	_ "github.com/prometheus/prometheus/promql/parser"
	_ "github.com/prometheus/prometheus/storage"
	_ "github.com/prometheus/prometheus/tsdb/chunkenc"
	_ "github.com/prometheus/prometheus/util/annotations"
	_ "modernc.org/sqlite"
)
