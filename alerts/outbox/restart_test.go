package outbox

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"golang.org/x/time/rate"
)

// The kill test runs an aggregator's outbox in a child process (this test
// binary again), selected by this variable.
const helperEnv = "GPUWD_OUTBOX_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "enqueue" {
		os.Exit(enqueueUntilKilled())
	}
	os.Exit(m.Run())
}

// The chat service is down (5xx, or nothing listening) while notifications
// are enqueued; the aggregator stops in the middle of retrying and starts
// again on the same alerts.db; once the service is back it has every
// notification exactly once, in order.
func TestRestartDuringOutage(t *testing.T) {
	for _, refused := range []bool{false, true} {
		name := "5xx"
		if refused {
			name = "connection refused"
		}
		t.Run(name, func(t *testing.T) {
			var (
				c    *chat
				url  string
				addr string
			)
			if refused {
				addr = closedPort(t)
				url = "http://" + addr + "/hook"
			} else {
				c = newChat(t, ok)
				url = c.srv.URL
			}
			receivers := func(down bool) map[string][]notify.Integration {
				wh := newWebhook(url, nil)
				if down {
					// Down for every request of the first process, even
					// one the service handles after it has stopped.
					wh.header = http.Header{downHeader: {"1"}}
				}
				return team(integration("slack/0", wh, true, "h"))
			}
			dir := t.TempDir()
			db := openDB(t, dir)
			o := newOutbox(t, db, fastOptions(t))
			o.SetReceivers(receivers(!refused))
			stop := start(t, o)
			var want []string
			for i := range 12 {
				g := []string{"a", "b", "c"}[i%3]
				enqueue(t, o, firing("team", g, i))
				want = append(want, ids(g, i)...)
			}
			eventually(t, "retries under way", func() bool {
				entries, err := o.Log(context.Background(), Filter{Limit: 1000})
				return err == nil && entries[len(entries)-1].Deliveries[0].Attempts >= 3
			})
			stop() // the aggregator stops mid-retry
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			if refused {
				c = newChatAt(t, addr, ok)
			}
			o = newOutbox(t, openDB(t, dir), fastOptions(t))
			o.SetReceivers(receivers(false))
			start(t, o)
			eventually(t, "all delivered", func() bool { return allFinished(t, o) })
			if got := c.Accepted(); !slices.Equal(got, want) {
				t.Fatalf("accepted\n%v\nwant each once, in order:\n%v", got, want)
			}
		})
	}
}

// enqueueUntilKilled is the child: an outbox delivering to GPUWD_URL (every
// fifth request there fails) while it enqueues notification i, i+1, … and
// prints "acked i" once Enqueue has returned.
func enqueueUntilKilled() int {
	ctx := context.Background()
	db, err := alertdb.Open(ctx, os.Getenv("GPUWD_DIR"))
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	o, err := New(ctx, db, Options{BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond, RateLimit: rate.Inf})
	if err != nil {
		fmt.Println("new:", err)
		return 1
	}
	o.SetReceivers(team(integration("webhook/0", newWebhook(os.Getenv("GPUWD_URL"), nil), true, "h")))
	go o.Run(ctx)
	start, _ := strconv.Atoi(os.Getenv("GPUWD_START"))
	out := bufio.NewWriter(os.Stdout)
	for i := start; ; i++ {
		if _, err := o.Enqueue(ctx, firing("team", "g"+strconv.Itoa(i%4), i)); err != nil {
			fmt.Fprintln(out, "enqueue:", err)
			out.Flush()
			return 1
		}
		fmt.Fprintf(out, "acked %d\n", i)
		out.Flush()
		time.Sleep(time.Millisecond) // let deliveries interleave with enqueues
	}
}

// TestKill9LosesNothingAcknowledged kills an enqueuing and delivering
// process several times over the same alerts.db, then lets a fresh outbox
// finish: every acknowledged notification arrives, in order, and a message
// arrives twice only when the kill fell between the service's reply and its
// record (at most once per kill).
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	c := newChat(t, func(n int, _ string) (int, http.Header, string) {
		if n%5 == 0 {
			return http.StatusServiceUnavailable, nil, "busy"
		}
		return 200, nil, "ok"
	})
	dir := t.TempDir()
	var acked []int
	next := 0
	kills := []int{15, 30, 10, 25}
	for round, killAfter := range kills {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=enqueue", "GPUWD_DIR="+dir, "GPUWD_URL="+c.srv.URL, "GPUWD_START="+strconv.Itoa(next))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		last := -1
		for sc.Scan() {
			n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "acked "))
			if err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("helper: %s", sc.Text())
			}
			acked = append(acked, n)
			last = n
			if n-next >= killAfter && len(c.Accepted()) > 0 {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
		cmd.Wait()
		if last < next {
			t.Fatalf("round %d: the helper acknowledged nothing", round)
		}
		t.Logf("round %d: killed after acknowledging %d; %d accepted so far", round, last, len(c.Accepted()))
		next = last + 1000 // past anything it committed without acknowledging
	}

	db := openDB(t, dir)
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	o := newOutbox(t, db, fastOptions(t))
	o.SetReceivers(team(integration("webhook/0", newWebhook(c.srv.URL, nil), true, "h")))
	start(t, o)
	eventually(t, "all delivered", func() bool { return allFinished(t, o) })

	got := c.Accepted()
	seq := func(id string) int {
		n, _ := strconv.Atoi(id[strings.IndexByte(id, '#')+1:])
		return n
	}
	var order []int
	dups := 0
	for _, id := range got {
		n := seq(id)
		if len(order) > 0 && order[len(order)-1] == n {
			dups++ // sent again after a kill before its record
			continue
		}
		if len(order) > 0 && n < order[len(order)-1] {
			t.Fatalf("%d arrived after %d: out of order (%v)", n, order[len(order)-1], got)
		}
		order = append(order, n)
	}
	if dups > len(kills) {
		t.Errorf("%d duplicates after %d kills", dups, len(kills))
	}
	for _, n := range acked {
		if _, found := slices.BinarySearch(order, n); !found {
			t.Fatalf("acknowledged notification %d never arrived", n)
		}
	}
	t.Logf("%d acknowledged, %d delivered, %d sent twice", len(acked), len(order), dups)
}

var _ notify.Notifier = (*webhook)(nil)
