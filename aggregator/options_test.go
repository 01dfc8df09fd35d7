package aggregator_test

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
)

// --retention takes Prometheus' units, as storage.retention does.
func TestRetentionFlagTakesPrometheusDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{"15d": 15 * 24 * time.Hour, "360h": 360 * time.Hour, "1w": 7 * 24 * time.Hour} {
		o := aggregator.DefaultOptions()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		o.RegisterFlags(fs)
		if err := fs.Parse([]string{"--retention", in}); err != nil || o.Retention != want {
			t.Errorf("--retention %s: %v, %v", in, o.Retention, err)
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := aggregator.DefaultOptions()
	o.RegisterFlags(fs)
	if err := fs.Parse([]string{"--retention", "fortnight"}); err == nil {
		t.Error("--retention fortnight was taken")
	}
}
