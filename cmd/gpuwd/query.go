package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/api"
)

// query is `gpuwd query`: an instant query, or a range query when --start
// is given, printed like promtool query or as JSON.
func query(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	server := fs.String("server", "http://127.0.0.1:8080", "URL of gpuwd serve (or any Prometheus API)")
	at := fs.String("time", "", "evaluation time (RFC 3339 or Unix seconds; default now)")
	start := fs.String("start", "", "range query from this time (RFC 3339, Unix seconds, or a duration ago like 1h)")
	end := fs.String("end", "", "range query end (default now)")
	step := fs.Duration("step", time.Minute, "range query resolution")
	output := fs.String("o", "text", "output: text or json")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "gpuwd query: want exactly one PromQL expression, e.g. gpuwd query 'up'")
		return 2
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "gpuwd query: -o %q: want text or json\n", *output)
		return 2
	}
	now := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	c := &api.Client{BaseURL: *server}
	var res *api.Result
	var err error
	if *start == "" {
		var ts time.Time
		if ts, err = parseTime(*at, now, time.Time{}); err == nil {
			res, err = c.Query(ctx, fs.Arg(0), ts)
		}
	} else {
		var from, to time.Time
		from, err = parseTime(*start, now, now)
		if err == nil {
			to, err = parseTime(*end, now, now)
		}
		if err == nil {
			res, err = c.QueryRange(ctx, fs.Arg(0), from, to, *step)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "gpuwd query:", err)
		return 1
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res.Value)
	} else {
		err = api.FormatValue(stdout, res.Value)
	}
	if err != nil {
		fmt.Fprintln(stderr, "gpuwd query:", err)
		return 1
	}
	return 0
}

// parseTime reads RFC 3339, Unix seconds, or a duration meaning that long
// before now; empty gives def.
func parseTime(s string, now, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "-")); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339, Unix seconds or a duration ago (1h)", s)
}
