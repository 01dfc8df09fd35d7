package discovery

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

func TestParseFileSD(t *testing.T) {
	sc := config.ScrapeConfig{JobName: "gpu", Scheme: "http", MetricsPath: "/metrics"}
	tests := []struct {
		name, path, body string
		want             []target.Target
		wantErr          string
	}{
		{
			name: "json", path: "/sd/a.json",
			body: `[{"targets": ["10.0.0.1:9400", "gpu2"], "labels": {"rack": "r1"}}, {"targets": ["10.0.0.3:9400"]}]`,
			want: []target.Target{
				{Job: "gpu", Scheme: "http", Address: "10.0.0.1:9400", MetricsPath: "/metrics", Labels: map[string]string{"rack": "r1"}, Meta: map[string]string{"filepath": "/sd/a.json"}, Source: "file_sd:/sd/a.json"},
				{Job: "gpu", Scheme: "http", Address: "gpu2:80", MetricsPath: "/metrics", Labels: map[string]string{"rack": "r1"}, Meta: map[string]string{"filepath": "/sd/a.json"}, Source: "file_sd:/sd/a.json"},
				{Job: "gpu", Scheme: "http", Address: "10.0.0.3:9400", MetricsPath: "/metrics", Meta: map[string]string{"filepath": "/sd/a.json"}, Source: "file_sd:/sd/a.json"},
			},
		},
		{
			name: "yaml with scheme, path and meta overrides", path: "/sd/b.yml",
			body: "- targets: [gpu1]\n  labels:\n    __scheme__: https\n    __metrics_path__: /gpu/metrics\n    __meta_rack: r7\n    team: ml\n",
			want: []target.Target{{
				Job: "gpu", Scheme: "https", Address: "gpu1:443", MetricsPath: "/gpu/metrics",
				Labels: map[string]string{"team": "ml"}, Meta: map[string]string{"filepath": "/sd/b.yml", "rack": "r7"}, Source: "file_sd:/sd/b.yml",
			}},
		},
		{name: "empty yaml", path: "/sd/e.yaml", body: ""},
		{name: "empty json", path: "/sd/e.json", body: "", wantErr: "unexpected end of JSON input"},
		{name: "json syntax error has a line", path: "/sd/a.json", body: "[\n{\"targets\": [\"a:1\"]},\n{\"targets\": [\"b:1\",]}\n]", wantErr: "line 3: invalid character"},
		{name: "json type error has a line", path: "/sd/a.json", body: "[\n{\"targets\": \"a:1\"}]", wantErr: "line 2: json: cannot unmarshal"},
		{name: "json unknown field", path: "/sd/a.json", body: `[{"targets": ["a:1"], "label": {}}]`, wantErr: `unknown field "label"`},
		{name: "json trailing data", path: "/sd/a.json", body: `[] []`, wantErr: "line 1: invalid character '[' after top-level value"},
		{name: "yaml unknown field", path: "/sd/a.yml", body: "- targets: [a:1]\n  lables: {}\n", wantErr: "line 2: field lables not found"},
		{name: "target with a scheme", path: "/sd/a.json", body: `[{"targets": ["http://a:1"]}]`, wantErr: `group 0: target "http://a:1" must be host:port`},
		{name: "bad label name", path: "/sd/a.json", body: `[{"targets": ["a:1"], "labels": {"bad-name": "x"}}]`, wantErr: `invalid label name "bad-name"`},
		{name: "unsupported reserved label", path: "/sd/a.json", body: `[{"targets": ["a:1"], "labels": {"__param_x": "1"}}]`, wantErr: `label "__param_x" is not supported`},
		{name: "bad scheme label", path: "/sd/a.json", body: `[{"targets": ["a:1"], "labels": {"__scheme__": "ftp"}}]`, wantErr: "neither http nor https"},
		{name: "other extension", path: "/sd/a.txt", body: `[]`, wantErr: `extension ".txt" is not .json, .yml or .yaml`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFileSD(sc, tt.path, []byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

const fileSDConfig = `
scrape_configs:
  - job_name: gpu
    file_sd_configs:
      - files: [sd/*.json, sd/*.yml]
        refresh_interval: 10m
`

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func addresses(ts []target.Target) []string {
	var as []string
	for _, t := range ts {
		as = append(as, t.Address)
	}
	return as
}

func TestFileSDFollowsFiles(t *testing.T) {
	dir := t.TempDir()
	sd := filepath.Join(dir, "sd")
	if err := os.Mkdir(sd, 0o755); err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(sd, "a.json")
	writeFile(t, a, `[{"targets": ["10.0.0.1:9400"]}]`)
	h := newHarness(t, fileSDConfig, dir, Options{})
	want := func(step string, addrs ...string) {
		t.Helper()
		if got := addresses(h.m.Targets()); !reflect.DeepEqual(got, addrs) {
			t.Fatalf("%s: targets %v, want %v", step, got, addrs)
		}
	}
	want("initial read (relative glob resolved against the config's directory)", "10.0.0.1:9400")
	if got := h.m.Targets()[0]; got.Source != "file_sd:"+a || got.Meta["filepath"] != a ||
		got.DiscoveredLabels()["__meta_filepath"] != a || got.Job != "gpu" {
		t.Errorf("target = %+v", got)
	}

	b := filepath.Join(sd, "b.yml")
	writeFile(t, b, "- targets: ['10.0.0.2:9400']\n")
	h.m.pollOnce()
	want("new file matched", "10.0.0.1:9400", "10.0.0.2:9400")

	writeFile(t, a, `[{"targets": ["10.0.0.1:9400", "10.0.0.3:9400"]}]`)
	h.m.pollOnce()
	want("file rewritten", "10.0.0.1:9400", "10.0.0.2:9400", "10.0.0.3:9400")

	writeFile(t, a, `[{"targets": ["10.0.0.9:9400"]`)
	h.m.pollOnce()
	want("broken file keeps its targets", "10.0.0.1:9400", "10.0.0.2:9400", "10.0.0.3:9400")
	errs := h.m.Errors()
	if len(errs) != 1 || errs[0].Path != a || errs[0].Job != "gpu" || !strings.Contains(errs[0].Err.Error(), "unexpected end of JSON") {
		t.Fatalf("Errors() = %+v", errs)
	}
	if got := h.metric(t, "gpuwd_sd_file_read_errors_total"); got != 1 {
		t.Errorf("gpuwd_sd_file_read_errors_total = %v, want 1", got)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, a) || !strings.Contains(logs, "unexpected end of JSON") {
		t.Errorf("the log does not name the file and the problem:\n%s", logs)
	}
	h.m.pollOnce()
	if got := h.metric(t, "gpuwd_sd_file_read_errors_total"); got != 1 {
		t.Errorf("an unchanged broken file was read again: errors_total = %v", got)
	}

	writeFile(t, a, `[{"targets": ["10.0.0.4:9400"]}]`)
	h.m.pollOnce()
	want("repaired file", "10.0.0.2:9400", "10.0.0.4:9400")
	if errs := h.m.Errors(); len(errs) != 0 {
		t.Errorf("Errors() after the repair = %+v", errs)
	}

	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	h.m.pollOnce()
	want("deleted file", "10.0.0.4:9400")
}

func TestFileSDBrokenNewFileReportsError(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sd"), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "sd", "bad.yml")
	writeFile(t, bad, "- targets: [a:1]\n  labels: {job-name: x}\n")
	h := newHarness(t, fileSDConfig, dir, Options{})
	if ts := h.m.Targets(); len(ts) != 0 {
		t.Errorf("targets from a broken file: %v", ts)
	}
	if errs := h.m.Errors(); len(errs) != 1 || errs[0].Path != bad || !strings.Contains(errs[0].Err.Error(), `"job-name"`) {
		t.Errorf("Errors() = %+v", errs)
	}
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	h.m.pollOnce()
	if errs := h.m.Errors(); len(errs) != 0 {
		t.Errorf("a deleted file is still reported: %+v", errs)
	}
}

// TestFileSDNoticesChangesStatCannotSee covers a file replaced by rename
// with the same size and modification time (the inode tells), and a file
// rewritten in place the same way (only the refresh interval finds it).
func TestFileSDNoticesChangesStatCannotSee(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sd"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(dir, "sd", "a.json")
	mtime := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	write := func(path, body string) {
		t.Helper()
		writeFile(t, path, body)
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write(a, `[{"targets": ["10.0.0.1:9400"]}]`)
	h := newHarness(t, fileSDConfig, dir, Options{})

	tmp := filepath.Join(dir, "a.json.tmp")
	write(tmp, `[{"targets": ["10.0.0.2:9400"]}]`)
	if err := os.Rename(tmp, a); err != nil {
		t.Fatal(err)
	}
	h.m.pollOnce()
	if got := addresses(h.m.Targets()); !reflect.DeepEqual(got, []string{"10.0.0.2:9400"}) {
		t.Fatalf("after a same-size rename: %v", got)
	}

	f, err := os.OpenFile(a, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("3"), int64(strings.Index(`[{"targets": ["10.0.0.2:9400"]}]`, "2:"))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(a, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	h.m.pollOnce()
	if got := addresses(h.m.Targets()); !reflect.DeepEqual(got, []string{"10.0.0.2:9400"}) {
		t.Fatalf("stat cannot see the in-place edit, yet targets changed before the refresh: %v", got)
	}
	h.clock.Advance(10 * time.Minute)
	h.m.pollOnce()
	if got := addresses(h.m.Targets()); !reflect.DeepEqual(got, []string{"10.0.0.3:9400"}) {
		t.Fatalf("after refresh_interval: %v", got)
	}
}
