package agent

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"
)

func TestAdvertiseURL(t *testing.T) {
	runPod := map[string]string{"RUNPOD_POD_ID": "abc123xyz", "RUNPOD_PUBLIC_IP": "203.0.113.7",
		"RUNPOD_TCP_PORT_22": "40022", "RUNPOD_TCP_PORT_9400": "40123"}
	proxyOnly := map[string]string{"RUNPOD_POD_ID": "abc123xyz", "RUNPOD_PUBLIC_IP": "203.0.113.7", "RUNPOD_TCP_PORT_22": "40022"}
	for _, c := range []struct {
		name     string
		flag     string
		listen   string
		bound    string
		tls      bool
		env      map[string]string
		want     string
		wantErr  string
		notLocal bool
	}{
		{name: "flag wins", flag: "https://gpu1.example/metrics?x=1", listen: ":9400", env: runPod,
			want: "https://gpu1.example/metrics?x=1"},
		{name: "RunPod public TCP port", listen: ":9400", env: runPod, want: "http://203.0.113.7:40123/metrics"},
		{name: "RunPod public TCP port, TLS", listen: ":9400", env: runPod, tls: true, want: "https://203.0.113.7:40123/metrics"},
		{name: "RunPod, listen port not mapped: proxy", listen: ":9400", env: proxyOnly,
			want: "https://abc123xyz-9400.proxy.runpod.net/metrics"},
		{name: "RunPod proxy, other port", listen: ":8080", bound: "[::]:8080", env: map[string]string{"RUNPOD_POD_ID": "p1"},
			want: "https://p1-8080.proxy.runpod.net/metrics"},
		{name: "RunPod bad port mapping", listen: ":9400",
			env: map[string]string{"RUNPOD_PUBLIC_IP": "203.0.113.7", "RUNPOD_TCP_PORT_9400": "x"}, wantErr: "RUNPOD_TCP_PORT_9400"},
		{name: "listen IP", listen: "10.1.2.3:9400", bound: "10.1.2.3:9400", want: "http://10.1.2.3:9400/metrics"},
		{name: "listen name", listen: "gpu7.lan:9400", bound: "10.1.2.7:9400", want: "http://gpu7.lan:9400/metrics"},
		{name: "listen IPv6, TLS", listen: "[fd00::5]:9400", bound: "[fd00::5]:9400", tls: true,
			want: "https://[fd00::5]:9400/metrics"},
		{name: "listen port 0: the bound port", listen: "127.0.0.1:0", bound: "127.0.0.1:41234",
			want: "http://127.0.0.1:41234/metrics"},
		{name: "all interfaces: the route to the aggregator", listen: ":9400", want: "http://127.0.0.1:9400/metrics"},
		{name: "0.0.0.0: the route to the aggregator", listen: "0.0.0.0:9400", bound: "0.0.0.0:9400",
			want: "http://127.0.0.1:9400/metrics"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.bound == "" {
				c.bound = "[::]:9400"
			}
			bound, err := net.ResolveTCPAddr("tcp", c.bound)
			if err != nil {
				t.Fatal(err)
			}
			agg, _ := url.Parse("http://127.0.0.1:9090/")
			adv := advertise{flag: c.flag, listen: c.listen, bound: bound, tls: c.tls, aggregator: agg,
				lookup: func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }}
			got, err := adv.url(context.Background())
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Errorf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestNodeName(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	pod := env(map[string]string{"RUNPOD_POD_HOSTNAME": "abc-64410f1e"})
	if n := nodeName("", "machine", pod); n != "abc-64410f1e" {
		t.Errorf("on RunPod: %q", n)
	}
	if n := nodeName("", "machine", env(nil)); n != "machine" {
		t.Errorf("elsewhere: %q", n)
	}
	if n := nodeName("given", "machine", pod); n != "given" {
		t.Errorf("with --hostname: %q", n)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@agg.example:8443/base?token=x#f": "https://agg.example:8443/base?REDACTED",
		"http://agg.example":                              "http://agg.example",
		"http://a b":                                      "<unparsable URL>",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRegistrationOptionsAreClearErrors(t *testing.T) {
	const token = "tok-S3CRET"
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{AggregatorURL: "ftp://agg.example", AggregatorToken: token}, `--aggregator-url: scheme "ftp"`},
		{Options{AggregatorURL: "agg.example:9090", AggregatorToken: token}, "--aggregator-url"},
		{Options{AggregatorURL: "http:///api", AggregatorToken: token}, "--aggregator-url: no host"},
		{Options{AggregatorURL: "http://agg.example"}, "needs --token or --token-file"},
		{Options{AggregatorURL: "http://agg.example", AggregatorTokenFile: "/nonexistent/token"}, "--token-file"},
		{Options{AdvertiseURL: "gpu1:9400/metrics"}, "--advertise-url"},
		{Options{RegisterLabels: "team"}, `"team": want name=value`},
		{Options{RegisterLabels: "team="}, `"team=": want name=value`},
		{Options{RegisterLabels: "1team=ml"}, "not a valid label name"},
		{Options{RegisterLabels: "team-x=ml"}, "not a valid label name"},
		{Options{RegisterLabels: "__meta_x=1"}, "reserved"},
		{Options{RegisterLabels: "job=x"}, "set by the aggregator"},
		{Options{RegisterLabels: "instance=x"}, "set by the aggregator"},
		{Options{RegisterLabels: "a=1,a=2"}, "given twice"},
	} {
		c.opts.SampleInterval = DefaultSampleInterval
		c.opts.Simulate = "h100x1"
		_, err := New(c.opts, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.opts, err, c.want)
		} else if strings.Contains(err.Error(), "S3CRET") {
			t.Errorf("the token is in the error: %v", err)
		}
	}
	labels, err := parseLabels(" team=ml , cluster=eu-1,")
	if err != nil || len(labels) != 2 || labels["team"] != "ml" || labels["cluster"] != "eu-1" {
		t.Errorf("parseLabels = %v, %v", labels, err)
	}
}
