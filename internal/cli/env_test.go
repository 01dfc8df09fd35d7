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

func TestWithEnvNamesNamesTheVariables(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("munge-key", "", "")
	fs.String("munge-key-file", "", "")
	fs.String("slurm-conf-server", "", "")
	fs.Bool("version", false, "")
	for _, c := range []struct{ in, want string }{
		{"--slurm-role worker needs --slurm-conf-server: the head's address",
			"--slurm-role worker needs --slurm-conf-server (GPUWD_SLURM_CONF_SERVER): the head's address"},
		{"--munge-key and --munge-key-file: give one",
			"--munge-key (GPUWD_MUNGE_KEY) and --munge-key-file (GPUWD_MUNGE_KEY_FILE): give one"},
		{"needs --munge-key (GPUWD_MUNGE_KEY) or --version",
			"needs --munge-key (GPUWD_MUNGE_KEY) or --version"},
		{"no flags here", "no flags here"},
	} {
		if got := WithEnvNames(c.in, fs, "GPUWD_"); got != c.want {
			t.Errorf("WithEnvNames(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}
