package cli

import (
	"flag"
	"strings"
	"testing"
	"time"
)

func TestParseEnvFillsUnsetFlags(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	listen := fs.String("listen", ":9400", "")
	interval := fs.Duration("sample-interval", time.Second, "")
	token := fs.String("metrics-token", "", "")
	env := map[string]string{
		"GPUWD_LISTEN":          "127.0.0.1:1",
		"GPUWD_SAMPLE_INTERVAL": "5s",
		"GPUWD_METRICS_TOKEN":   "from-env",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if err := Parse(fs, []string{"--metrics-token", "from-flag"}, "GPUWD_", lookup); err != nil {
		t.Fatal(err)
	}
	if *listen != "127.0.0.1:1" || *interval != 5*time.Second {
		t.Errorf("env not applied: listen=%q interval=%v", *listen, *interval)
	}
	if *token != "from-flag" {
		t.Errorf("command line must win over env, got %q", *token)
	}
}

func TestParseBadEnvValueNamesTheVariable(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Duration("sample-interval", time.Second, "")
	lookup := func(k string) (string, bool) { return "soon", k == "GPUWD_SAMPLE_INTERVAL" }
	err := Parse(fs, nil, "GPUWD_", lookup)
	if err == nil || !strings.Contains(err.Error(), "GPUWD_SAMPLE_INTERVAL") {
		t.Fatalf("want an error naming GPUWD_SAMPLE_INTERVAL, got %v", err)
	}
}

// GPUWD_VERSION (an image label, say) does not set --version.
func TestCommandFlagsAreNotSetFromTheEnvironment(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	version := fs.Bool("version", false, "print the version")
	env := map[string]string{"GPUWD_VERSION": "1.2.3"}
	if err := Parse(fs, nil, "GPUWD_", func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil || *version {
		t.Fatalf("GPUWD_VERSION=1.2.3: err %v, version %v", err, *version)
	}
}
