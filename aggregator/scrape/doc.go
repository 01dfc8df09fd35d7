// Package scrape pulls /metrics from every target and hands the samples to
// storage, the way Prometheus' scrape loop does, so that queries over gpuwd's
// history mean what they would mean over a Prometheus server's.
//
// One goroutine scrapes each target. It starts at an offset within the job's
// interval derived from a hash of the target, so targets spread over the
// interval and each keeps the same phase across restarts; samples are stamped
// with the scheduled tick (exactly regular timestamps compress to almost
// nothing) unless the scrape started late. A scrape is all or nothing: the
// page is fetched (timeout, body size limit), parsed with Prometheus' own
// streaming parsers (text and OpenMetrics), checked against the sample limit,
// and only then written with one Storage.Append, together with the report
// series (up, scrape_duration_seconds, …) and the staleness markers for
// series that disappeared. A failed scrape writes up=0 and marks everything
// the target last exposed stale; a target that goes away is marked stale
// entirely.
//
// Steady state is cheap. Each target keeps a cache from the exposition's
// raw series text to the stored series, so a known series costs one map
// lookup: no label building, no hashing, no call to Storage.Ref. And since an
// agent's page keeps its layout from scrape to scrape, a page laid out
// exactly like the last one textparse accepted is read for its values alone
// (see layout.go); any difference sends it through textparse again.
package scrape
