package api

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// promtool runs the real promtool against the API; it is the reference
// client (client_golang's API client and model decoding, as Grafana's
// backend uses them).
func promtool(t *testing.T, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	path := testenv.LookPath(t, "promtool")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // only so a hang cannot outlive the test
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return out.String(), errOut.String(), exit.ExitCode()
	case err != nil:
		t.Fatalf("promtool %q: %v", args, err)
	}
	return out.String(), errOut.String(), 0
}

func TestPromtoolQueries(t *testing.T) {
	testenv.LookPath(t, "promtool")
	srv := serve(t, Options{})
	// promtool's default range for series and labels is about a year
	// around now, which misses the test data.
	const start, end = "--start=2023-11-14T00:00:00Z", "--end=1700100000"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"instant aggregate", []string{"query", "instant", "--time=1700000600", srv.URL, "avg(gpu_temp_celsius)"},
			"{} => 70 @[1700000600]\n"},
		{"instant selector, RFC 3339 time", []string{"query", "instant", "--time=2023-11-14T22:23:20Z", srv.URL, "up"},
			"up{instance=\"a:9400\", job=\"gpu\"} => 1 @[1700000600]\n" +
				"up{instance=\"b:9400\", job=\"gpu\"} => 0 @[1700000600]\n"},
		{"instant with fractional time", []string{"query", "instant", "--time=1700000600.25", srv.URL, "sum by (instance) (gpu_temp_celsius)"},
			"{instance=\"a:9400\"} => 130 @[1700000600.25]\n{instance=\"b:9400\"} => 80 @[1700000600.25]\n"},
		{"instant scalar", []string{"query", "instant", "--time=1700000600", srv.URL, "scalar(max(gpu_temp_celsius))"},
			"scalar: 80 @[1700000600]\n"},
		{"instant json", []string{"query", "instant", "-o", "json", "--time=1700000600", srv.URL, "avg(gpu_temp_celsius)"},
			`[{"metric":{},"value":[1700000600,"70"]}]` + "\n"},
		{"range", []string{"query", "range", "--start=1700000000", "--end=1700000060", "--step=15s", srv.URL, `gpu_xid_errors_total{gpu="0"}`},
			"gpu_xid_errors_total{gpu=\"0\", instance=\"a:9400\", job=\"gpu\"} =>\n" +
				"0 @[1700000000]\n10 @[1700000015]\n20 @[1700000030]\n30 @[1700000045]\n40 @[1700000060]\n"},
		{"range of an aggregate", []string{"query", "range", "--start=2023-11-14T22:13:20Z", "--end=2023-11-14T22:15:20Z", "--step=1m", srv.URL, "count(gpu_temp_celsius > 65)"},
			"{} =>\n2 @[1700000000]\n2 @[1700000060]\n2 @[1700000120]\n"},
		{"series", []string{"query", "series", start, end, `--match=gpu_temp_celsius{instance="a:9400"}`, `--match=up{instance="b:9400"}`, srv.URL},
			"{__name__=\"gpu_temp_celsius\", gpu=\"0\", instance=\"a:9400\", job=\"gpu\"}\n" +
				"{__name__=\"gpu_temp_celsius\", gpu=\"1\", instance=\"a:9400\", job=\"gpu\"}\n" +
				"{__name__=\"up\", instance=\"b:9400\", job=\"gpu\"}\n"},
		{"series in a time range", []string{"query", "series", "--match=up", "--start=1600000000", "--end=1600000100", srv.URL}, ""},
		{"label values", []string{"query", "labels", start, end, srv.URL, "instance"}, "a:9400\nb:9400\n"},
		{"label values with match", []string{"query", "labels", start, end, `--match=gpu_temp_celsius{instance="b:9400"}`, srv.URL, "gpu"}, "0\n"},
		{"metric names", []string{"query", "labels", start, end, srv.URL, "__name__"}, "gpu_info\ngpu_temp_celsius\ngpu_xid_errors_total\nup\n"},
		{"label values outside the data", []string{"query", "labels", srv.URL, "instance"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := promtool(t, tc.args...)
			if code != 0 || out != tc.want {
				t.Errorf("promtool %q: exit %d, stdout:\n%s\nstderr:\n%s\nwant stdout:\n%s", tc.args, code, out, errOut, tc.want)
			}
		})
	}
}

// rate() over the counter, through promtool: 2/3 per second.
func TestPromtoolRate(t *testing.T) {
	testenv.LookPath(t, "promtool")
	srv := serve(t, Options{})
	out, errOut, code := promtool(t, "query", "instant", "--time=1700000600", srv.URL, "rate(gpu_xid_errors_total[1m])")
	prefix := `{gpu="0", instance="a:9400", job="gpu"} => `
	value, found := strings.CutPrefix(out, prefix)
	value, _, _ = strings.Cut(value, " @[1700000600]\n")
	f, err := strconv.ParseFloat(value, 64)
	if code != 0 || !found || err != nil || math.Abs(f-10.0/15) > 1e-12 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestPromtoolErrors(t *testing.T) {
	testenv.LookPath(t, "promtool")
	srv := serve(t, Options{})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"query", "instant", srv.URL, "sum("}, `bad_data: invalid parameter "query": 1:5: parse error: unclosed left parenthesis`},
		{[]string{"query", "range", "--start=0", "--end=20000", "--step=1s", srv.URL, "up"}, "bad_data: exceeded maximum resolution of 11,000 points per timeseries"},
		{[]string{"query", "series", "--match={job=~\".*\"}", srv.URL}, "bad_data: invalid parameter \"match[]\": match[] must contain at least one non-empty matcher"},
	} {
		out, errOut, code := promtool(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("promtool %q: exit %d, stdout %q, stderr %q; want an error with %q", tc.args, code, out, errOut, tc.want)
		}
	}
}
