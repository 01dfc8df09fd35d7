package runpod

import (
	"net/http"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/runpod/runpodtest"
)

func TestCreateReturnsPodOfSameRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, runpodtest.Options{ManualStart: true})
	first := f.create(t, "req-1")
	again := f.create(t, "req-1")
	if again.ID != first.ID || f.fake.Creates() != 1 {
		t.Errorf("second create: pod %s (first %s), %d creates; want the same pod, 1 create", again.ID, first.ID, f.fake.Creates())
	}
	if other := f.create(t, "req-2"); other.ID == first.ID || f.fake.Creates() != 2 {
		t.Errorf("another request got pod %s, %d creates; want a new pod", other.ID, f.fake.Creates())
	}
}

// A create whose reply is lost may have made the pod: the provider must
// find that pod instead of making a second one.
func TestCreateLostReplyMakesOnePod(t *testing.T) {
	t.Parallel()
	for name, lose := range map[string]func(*runpodtest.Server){
		"timeout":            (*runpodtest.Server).CreateTimesOutButSucceeds,
		"500":                func(s *runpodtest.Server) { s.CreateFailsButSucceeds(http.StatusInternalServerError) },
		"504":                func(s *runpodtest.Server) { s.CreateFailsButSucceeds(http.StatusGatewayTimeout) },
		"connection dropped": func(s *runpodtest.Server) { s.CreateFailsButSucceeds(0) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, runpodtest.Options{ManualStart: true}, func(c *Config) {
				c.Timeout = 300 * time.Millisecond
			})
			lose(f.fake)
			pod := f.create(t, "req-1")
			pods := f.fake.Pods()
			if f.fake.Creates() != 1 || len(pods) != 1 || pods[0].ID != pod.ID {
				t.Errorf("%d creates, pods %+v; want exactly pod %s", f.fake.Creates(), pods, pod.ID)
			}
			if pod.RequestID != "req-1" {
				t.Errorf("RequestID = %q", pod.RequestID)
			}
		})
	}
}

func TestCreateRetriesRateLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, runpodtest.Options{ManualStart: true})
	f.fake.FailNext(3, http.StatusTooManyRequests)
	f.create(t, "req-1")
	if f.fake.Creates() != 1 || len(f.fake.Pods()) != 1 {
		t.Errorf("%d creates, want 1", f.fake.Creates())
	}
}
