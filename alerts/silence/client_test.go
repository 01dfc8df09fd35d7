package silence_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/amapi"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/dispatch"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/route"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/silence"
)

type nopLog struct{}

func (nopLog) Enqueue(context.Context, dispatch.Notification) (int64, error) { return 1, nil }
func (nopLog) Last(context.Context, string, string) (dispatch.Notification, bool, error) {
	return dispatch.Notification{}, false, nil
}

// server is gpuwd's API over a real store, on loopback.
func server(t *testing.T) (*httptest.Server, *silence.Store) {
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
	cfg, err := route.Parse([]byte("route: {receiver: r}\nreceivers: [{name: r}]"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := dispatch.New(cfg, dispatch.Options{Log: nopLog{}, Silences: store})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	amapi.New(amapi.Options{Dispatcher: d, Silences: store}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, store
}

func TestClient(t *testing.T) {
	srv, store := server(t)
	ctx := context.Background()
	c := silence.NewClient(srv.URL+"/", nil)

	ms, err := silence.ParseArgs([]string{"GPUOverheating", `instance=~"node-[12]:9400"`})
	if err != nil {
		t.Fatal(err)
	}
	sil, err := silence.New(ms, time.Time{}, time.Hour, "ann", "swap fans")
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Add(ctx, sil)
	if err != nil {
		t.Fatal(err)
	}
	if ids := store.Mutes(map[string]string{"alertname": "GPUOverheating", "instance": "node-2:9400"}); len(ids) != 1 || ids[0] != id {
		t.Fatalf("the silence added through the client mutes %v", ids)
	}

	got, err := c.Get(ctx, id)
	if err != nil || got.State != silence.StateActive || got.Comment != "swap fans" || got.CreatedBy != "ann" || len(got.Matchers) != 2 {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	list, err := c.Query(ctx, "alertname=GPUOverheating")
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("Query = %+v, %v", list, err)
	}
	if list, _ := c.Query(ctx, "alertname=Other"); len(list) != 0 {
		t.Errorf("Query(alertname=Other) = %+v", list)
	}

	var table bytes.Buffer
	if err := silence.WriteTable(&table, list); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], id) ||
		!strings.Contains(lines[1], `alertname="GPUOverheating" instance=~"node-[12]:9400"`) || !strings.Contains(lines[1], "swap fans") {
		t.Errorf("table:\n%s", table.String())
	}

	if err := c.Expire(ctx, id); err != nil {
		t.Fatal(err)
	}
	var apiErr *silence.APIError
	if err := c.Expire(ctx, "00000000-0000-4000-8000-000000000000"); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("Expire(unknown) = %v", err)
	}
	if _, err := c.Get(ctx, "nope"); !errors.As(err, &apiErr) || apiErr.StatusCode != 422 || !strings.Contains(err.Error(), "uuid") {
		t.Errorf("Get(nope) = %v", err)
	}
	bad := sil
	bad.Matchers = []silence.Matcher{{Name: "a", Value: ".*", IsRegex: true, IsEqual: true}}
	if _, err := c.Add(ctx, bad); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(err.Error(), "must not match the empty string") {
		t.Errorf("Add(matching everything) = %v", err)
	}
}

func TestParseArgs(t *testing.T) {
	ms, err := silence.ParseArgs([]string{"GPUDown", "severity!=info,team=~gpu|ml"})
	if err != nil {
		t.Fatal(err)
	}
	want := []silence.Matcher{
		{Name: "alertname", Value: "GPUDown", IsEqual: true},
		{Name: "severity", Value: "info"},
		{Name: "team", Value: "gpu|ml", IsRegex: true, IsEqual: true},
	}
	if len(ms) != len(want) {
		t.Fatalf("got %+v", ms)
	}
	for i := range want {
		if ms[i] != want[i] {
			t.Errorf("matcher %d = %+v, want %+v", i, ms[i], want[i])
		}
	}
	for _, args := range [][]string{nil, {`a="b`}, {`a=""`}} {
		if _, err := silence.ParseArgs(args); err == nil {
			t.Errorf("ParseArgs(%q) succeeded", args)
		}
	}
	if _, err := silence.New(ms, time.Time{}, 0, "", ""); err == nil {
		t.Error("a zero duration was accepted")
	}
}
