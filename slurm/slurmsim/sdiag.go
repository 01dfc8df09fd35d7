package slurmsim

import (
	"fmt"
	"strings"
	"time"
)

// writeSdiag prints scheduler statistics as sdiag does (the lines package
// parse reads, and a few around them): a controller that has run since the
// start of the day, with cycles that vary from minute to minute.
func (r *Runner) writeSdiag(b *strings.Builder, t time.Time) {
	now := t.Unix()
	since := now - (now-origin)%86400 // slurmctld "restarted" at midnight UTC
	d := newDraw(r.c.seed, uint64(now/60), 5)
	jobs := r.c.Jobs(t)
	pending, running := 0, 0
	for _, j := range jobs {
		switch j.State {
		case "PENDING":
			pending++
		case "RUNNING":
			running++
		}
	}
	backfilled := (now - since) / 1800 * int64(len(r.c.lanes)) / 4
	last := 900 + d.intn(4000)
	bfLast := 20000 + d.intn(60000)
	statesAt, bfAt := now-int64(d.intn(30)), now-int64(d.intn(30))
	fmt.Fprintf(b, "*******************************************************\n"+
		"sdiag output at %s (%d)\n"+
		"Data since      %s (%d)\n"+
		"*******************************************************\n"+
		"Server thread count:  %d\n"+
		"RPC queue enabled:    0\n"+
		"Agent queue size:     %d\n"+
		"Agent count:          0\n"+
		"Agent thread count:   0\n"+
		"DBD Agent queue size: 0\n\n"+
		"Jobs submitted: %d\n"+
		"Jobs started:   %d\n\n"+
		"Job states ts:  %s (%d)\n"+
		"Jobs pending:   %d\n"+
		"Jobs running:   %d\n\n"+
		"Main schedule statistics (microseconds):\n"+
		"\tLast cycle:   %d\n"+
		"\tMax cycle:    %d\n"+
		"\tTotal cycles: %d\n"+
		"\tMean cycle:   %d\n"+
		"\tMean depth cycle:  %d\n"+
		"\tCycles per minute: %d\n"+
		"\tLast queue length: %d\n\n"+
		"Backfilling stats\n"+
		"\tTotal backfilled jobs (since last slurm start): %d\n"+
		"\tTotal backfilled jobs (since last stats cycle start): %d\n"+
		"\tTotal backfilled heterogeneous job components: 0\n"+
		"\tTotal cycles: %d\n"+
		"\tLast cycle when: %s (%d)\n"+
		"\tLast cycle: %d\n"+
		"\tMax cycle:  %d\n"+
		"\tMean cycle: %d\n"+
		"\tLast depth cycle: %d\n"+
		"\tDepth Mean: %d\n"+
		"\tLast queue length: %d\n",
		ctime(now), now, ctime(since), since,
		1+d.intn(3), d.intn(2),
		(now-since)/60, (now-since)/90,
		ctime(statesAt), statesAt,
		pending, running,
		last, 9000+d.intn(20000), (now-since)/2, 1500+d.intn(800), 2+d.intn(len(jobs)+1), 28+d.intn(6), pending,
		backfilled, backfilled%97, (now-since)/30, ctime(bfAt), bfAt,
		bfLast, 150000+d.intn(100000), 45000+d.intn(10000), pending, 1+d.intn(pending+1), pending)
}

// ctime is a time as sdiag prints it.
func ctime(unix int64) string { return time.Unix(unix, 0).Format("Mon Jan _2 15:04:05 2006") }
