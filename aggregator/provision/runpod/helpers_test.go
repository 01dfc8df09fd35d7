package runpod

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/runpod/runpodtest"
)

const testImage = "ghcr.io/gpu-watchdog/agent:test"

// fixture is a provider talking to a fresh fake, logging into logs.
type fixture struct {
	p    *Provider
	fake *runpodtest.Server
	logs *syncBuffer
}

// newFixture starts a fake and a provider with fast retries; edit may
// change the config.
func newFixture(t *testing.T, opts runpodtest.Options, edit ...func(*Config)) fixture {
	t.Helper()
	fake := runpodtest.New(opts)
	t.Cleanup(fake.Close)
	logs := &syncBuffer{}
	cfg := Config{
		URL:      fake.URL,
		APIKey:   runpodtest.DefaultAPIKey,
		Image:    testImage,
		VolumeGB: 20,
		Timeout:  5 * time.Second,
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Retry:    Retry{MaxAttempts: 5, Initial: time.Millisecond, Max: 5 * time.Millisecond},
	}
	if opts.APIKey != "" {
		cfg.APIKey = opts.APIKey
	}
	for _, e := range edit {
		e(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{p: p, fake: fake, logs: logs}
}

func spec(requestID string) provision.PodSpec {
	return provision.PodSpec{
		RequestID: requestID,
		Name:      "gpu-" + requestID,
		GPUType:   "NVIDIA GeForce RTX 4090",
		GPUCount:  2,
		Cloud:     provision.CloudSecure,
		Role:      provision.RoleWorker,
		Env:       map[string]string{"GPUWD_AGGREGATOR_URL": "https://agg.example"},
	}
}

func (f fixture) create(t *testing.T, requestID string) provision.Pod {
	t.Helper()
	pod, err := f.p.Create(context.Background(), spec(requestID))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return pod
}

func (f fixture) get(t *testing.T, id string) provision.Pod {
	t.Helper()
	pod, err := f.p.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return pod
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
