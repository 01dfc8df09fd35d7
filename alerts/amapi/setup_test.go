package amapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/dispatch"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/route"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/silence"
)

type memLog struct {
	mu  sync.Mutex
	all []dispatch.Notification
}

func (l *memLog) Enqueue(_ context.Context, n dispatch.Notification) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, n)
	return int64(len(l.all)), nil
}

func (l *memLog) Last(_ context.Context, receiver, key string) (dispatch.Notification, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.all) - 1; i >= 0; i-- {
		if l.all[i].Receiver == receiver && l.all[i].GroupKey == key {
			return l.all[i], true, nil
		}
	}
	return dispatch.Notification{}, false, nil
}

const testConfig = `
route:
  receiver: chat
  group_by: [alertname]
  routes:
  - matchers: [severity="page"]
    receiver: pager
receivers:
- name: chat
- name: pager
  webhook_configs:
  - url: http://127.0.0.1:1/hook
    http_config:
      authorization:
        credentials: topsecret
inhibit_rules:
- source_matchers: [alertname="NodeDown"]
  target_matchers: [alertname="GPUDown"]
  equal: [instance]
`

type fixture struct {
	srv *httptest.Server
	d   *dispatch.Dispatcher
	s   *silence.Store
}

// serve runs the API over a real silence store and dispatcher, on the
// wall clock (amtool uses it), on loopback.
func serve(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := alertdb.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := silence.Open(ctx, db, silence.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := route.Parse([]byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	d, err := dispatch.New(cfg, dispatch.Options{Log: &memLog{}, Silences: store})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	alert := func(labels ...string) dispatch.Alert {
		ls := map[string]string{}
		for i := 0; i+1 < len(labels); i += 2 {
			ls[labels[i]] = labels[i+1]
		}
		return dispatch.Alert{Labels: ls, Annotations: map[string]string{"summary": ls["alertname"] + " on " + ls["instance"]},
			StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour), GeneratorURL: "http://gpuwd/graph"}
	}
	if err := d.Put(
		alert("alertname", "GPUOverheating", "instance", "n1", "severity", "warning"),
		alert("alertname", "GPUDown", "instance", "n2", "severity", "page"),
		alert("alertname", "NodeDown", "instance", "n2", "severity", "page"),
		dispatch.Alert{Labels: map[string]string{"alertname": "Gone"}, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(-time.Minute)},
	); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	New(Options{Dispatcher: d, Silences: store, Version: "1.2.3"}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, d: d, s: store}
}
