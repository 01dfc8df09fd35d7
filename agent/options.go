package agent

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/agent/collector"
	"github.com/gpu-watchdog/gpu-watchdog/agent/sim"
)

// Defaults.
const (
	DefaultListen         = ":9400"
	DefaultSampleInterval = time.Second
	DefaultNVMLLibrary    = "libnvidia-ml.so.1"
)

// Options configure the agent. Every field but the build stamps is a flag,
// and every flag a GPUWD_* environment variable.
type Options struct {
	Listen           string
	SampleInterval   time.Duration
	MetricsToken     string // bearer token for /metrics and /api; empty: open
	MetricsTokenFile string
	TLSCertFile      string
	TLSKeyFile       string
	Hostname         string // the hostname label; the machine's hostname when empty
	NVMLLibrary      string
	Collectors       string // comma-separated; empty: the defaults
	CollectProcesses bool   // add the per-process memory collector

	Simulate       string // "h100x8", "mixed", …: simulated GPUs instead of NVML
	SimulateSeed   uint64
	SimulateStable bool

	// Version and Revision are stamped in by the build.
	Version  string
	Revision string
}

// DefaultOptions returns the options a flagless start uses.
func DefaultOptions() Options {
	return Options{Listen: DefaultListen, SampleInterval: DefaultSampleInterval, NVMLLibrary: DefaultNVMLLibrary}
}

// RegisterFlags binds o's fields to fs.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	all, defaults := collector.Names()
	fs.StringVar(&o.Listen, "listen", o.Listen, "address to serve metrics on")
	fs.DurationVar(&o.SampleInterval, "sample-interval", o.SampleInterval, "how often to read the GPUs")
	fs.StringVar(&o.MetricsToken, "metrics-token", o.MetricsToken, "bearer token required on /metrics and /api (empty: none)")
	fs.StringVar(&o.MetricsTokenFile, "metrics-token-file", o.MetricsTokenFile, "file holding the bearer token")
	fs.StringVar(&o.TLSCertFile, "tls-cert-file", o.TLSCertFile, "serve HTTPS with this certificate (PEM)")
	fs.StringVar(&o.TLSKeyFile, "tls-key-file", o.TLSKeyFile, "key of --tls-cert-file (PEM)")
	fs.StringVar(&o.Hostname, "hostname", o.Hostname, "hostname label on every series (default: this machine's hostname)")
	fs.StringVar(&o.NVMLLibrary, "nvml-library", o.NVMLLibrary, "NVML library to load")
	fs.StringVar(&o.Collectors, "collectors", o.Collectors,
		fmt.Sprintf("comma-separated collectors to run (default %s; all: %s)", strings.Join(defaults, ","), strings.Join(all, ",")))
	fs.BoolVar(&o.CollectProcesses, "collect-processes", o.CollectProcesses,
		"also report GPU memory per process (host PIDs, as NVML gives them)")
	fs.StringVar(&o.Simulate, "simulate", o.Simulate,
		fmt.Sprintf("simulate GPUs instead of reading NVML: MODELxCOUNT[,…] or mixed (models: %s)", strings.Join(sim.ModelKeys(), ", ")))
	fs.Uint64Var(&o.SimulateSeed, "simulate-seed", o.SimulateSeed, "seed of the simulated machine (UUIDs, jobs)")
	fs.BoolVar(&o.SimulateStable, "simulate-stable", o.SimulateStable, "freeze simulated readings (for golden tests)")
}

// check validates o and resolves the token file.
func (o *Options) check() error {
	var errs []error
	if o.SampleInterval < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("--sample-interval %v: must be at least 100ms", o.SampleInterval))
	}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		errs = append(errs, errors.New("--tls-cert-file and --tls-key-file go together"))
	} else if o.TLSCertFile != "" {
		if _, err := tls.LoadX509KeyPair(o.TLSCertFile, o.TLSKeyFile); err != nil {
			errs = append(errs, fmt.Errorf("--tls-cert-file/--tls-key-file: %w", err))
		}
	}
	if o.MetricsTokenFile != "" {
		b, err := os.ReadFile(o.MetricsTokenFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("--metrics-token-file: %w", err))
		} else if o.MetricsToken = strings.TrimSpace(string(b)); o.MetricsToken == "" {
			errs = append(errs, fmt.Errorf("--metrics-token-file %s is empty", o.MetricsTokenFile))
		}
	}
	return errors.Join(errs...)
}

// collectorNames is the collector list the options ask for (nil: defaults).
func (o *Options) collectorNames() []string {
	var names []string
	if o.Collectors != "" {
		for n := range strings.SplitSeq(o.Collectors, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	if o.CollectProcesses {
		if names == nil {
			_, names = collector.Names()
		}
		if !slices.Contains(names, "processes") {
			names = append(names, "processes")
		}
	}
	return names
}
