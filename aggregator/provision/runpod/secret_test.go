package runpod

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/runpod/runpodtest"
)

// The API key must never reach logs, errors or printed values.
func TestKeyNeverLeaks(t *testing.T) {
	t.Parallel()
	const key = "rpa_SECRET0123456789abcdef"
	ctx := context.Background()
	f := newFixture(t, runpodtest.Options{APIKey: key}, func(c *Config) { c.Timeout = 300 * time.Millisecond })
	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	f.fake.FailNext(10, http.StatusInternalServerError)
	_, err := f.p.List(ctx)
	collect(err)
	f.fake.FailNext(1, http.StatusTooManyRequests)
	f.fake.GraphQLErrorNext("boom")
	_, err = f.p.Offers(ctx)
	collect(err)
	collect(f.p.Stop(ctx, "nope"))
	f.fake.CreateTimesOutButSucceeds()
	_, err = f.p.Create(ctx, spec("req-1"))
	collect(err)

	wrong := newFixture(t, runpodtest.Options{APIKey: "another"}, func(c *Config) { c.APIKey = key })
	_, err = wrong.p.List(ctx)
	collect(err)

	unreachable, err := New(Config{URL: "http://127.0.0.1:1/graphql", APIKey: key, Logger: f.p.log,
		Retry: Retry{MaxAttempts: 2, Initial: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = unreachable.List(ctx)
	collect(err)
	if len(errs) < 5 {
		t.Fatalf("only %d errors provoked: %v", len(errs), errs)
	}

	cfg := Config{APIKey: key, URL: DefaultURL}
	var logged strings.Builder
	jsonLog := slog.New(slog.NewJSONHandler(&logged, nil))
	jsonLog.Info("config", "cfg", cfg, "provider", f.p)

	out := f.logs.String() + wrong.logs.String() + logged.String()
	out += fmt.Sprintf("%v %+v %#v %s %q %x", cfg, cfg, cfg, cfg, cfg, cfg)
	out += fmt.Sprintf("%v %+v %#v %s", f.p, f.p, f.p, *f.p)
	for _, err := range errs {
		out += err.Error() + fmt.Sprintf("%+v %#v", err, err)
	}
	if !strings.Contains(f.logs.String(), "retrying") {
		t.Error("no retries logged; the test provokes too little")
	}
	if strings.Contains(out, key) {
		t.Errorf("the API key leaked:\n%s", out)
	}
}

func TestAPIKeySources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, []byte("  from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(APIKeyEnv, "from-env")
	for _, tc := range []struct {
		cfg     Config
		want    string
		wantErr string
	}{
		{Config{APIKey: "direct", APIKeyFile: file}, "direct", ""},
		{Config{APIKeyFile: file}, "from-file", ""},
		{Config{}, "from-env", ""},
		{Config{APIKeyFile: empty}, "", "is empty"},
		{Config{APIKeyFile: filepath.Join(dir, "missing")}, "", "read API key file"},
	} {
		p, err := New(tc.cfg)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("New(%v) err = %v, want %q", tc.cfg, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("New(%v): %v", tc.cfg, err)
		case p.key != tc.want:
			t.Errorf("New(%v) key = %q, want %q", tc.cfg, p.key, tc.want)
		}
	}
	t.Setenv(APIKeyEnv, "")
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), APIKeyEnv) {
		t.Errorf("no key anywhere: err = %v, want one naming %s", err, APIKeyEnv)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	p, err := New(Config{APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	c := p.cfg
	if c.URL != DefaultURL || c.MetricsPort != 9400 || c.Retry != DefaultRetry || c.Timeout != DefaultTimeout || c.APIKey != "" {
		t.Errorf("defaults = %+v / retry %+v", c, c.Retry)
	}
	if p.Name() != "runpod" {
		t.Errorf("Name = %q", p.Name())
	}
}
