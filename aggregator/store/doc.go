// Package store is the aggregator's time-series history in one SQLite file.
//
// Samples arrive a scrape at a time and are committed to a write-ahead table
// before Append returns, so an acknowledged sample survives kill -9. The
// newest window of every series is held in memory (the head); when a window
// closes it is compacted into one compressed chunk per series (see package
// chunk) and its write-ahead rows are dropped in the same transaction; the
// last hour of chunks also stays in memory, so the queries dashboards and
// rules run over and over (a 30-minute average) read no SQLite. Old
// chunks are downsampled to min/max/avg points and finally removed by
// retention. The PromQL engine reads the head and the chunks through
// storage.Queryable.
package store
