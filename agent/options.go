package agent

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/gpu-watchdog/gpu-watchdog/agent/collector"
	"github.com/gpu-watchdog/gpu-watchdog/agent/sim"
	"github.com/gpu-watchdog/gpu-watchdog/slurm"
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
	// CostPerHour is what this pod costs in USD per hour (RunPod's
	// costPerHr), exported so rules can price idle GPUs; 0: unknown.
	CostPerHour float64

	// Self-registration with a gpuwd aggregator (see register.go).
	AggregatorURL       string // empty: registration off
	AggregatorToken     string // bearer token for the aggregator
	AggregatorTokenFile string
	AdvertiseURL        string // the metrics URL to advertise; derived when empty
	RegisterLabels      string // comma-separated k=v added to the registration

	// Slurm: this node's part in a Slurm cluster (see package slurm).
	Slurm slurm.Options

	Simulate       string // "h100x8", "mixed", …: simulated GPUs instead of NVML
	SimulateSeed   uint64
	SimulateStable bool
	// SimulateSlurm makes a simulated agent a node of a simulated Slurm
	// cluster (package slurmsim): "head" or "worker"; "" for none. Its
	// node name is Slurm.NodeName or the short hostname.
	SimulateSlurm      string
	SimulateSlurmNodes string // the cluster: NAME:GPUS[:AVAILABILITY],…, the same on every agent
	SimulateSlurmSeed  uint64 // the cluster's timetable, the same on every agent

	// NVML, when set, is the library the agent reads instead of loading
	// NVMLLibrary or simulating: a program that embeds the agent, or a test
	// that makes NVML calls fail or hang mid-run. Not a flag.
	NVML nvml.Interface

	// Version and Revision are stamped in by the build.
	Version  string
	Revision string
}

// DefaultOptions returns the options a flagless start uses.
func DefaultOptions() Options {
	return Options{Listen: DefaultListen, SampleInterval: DefaultSampleInterval, NVMLLibrary: DefaultNVMLLibrary,
		Slurm: slurm.DefaultOptions()}
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
	fs.Float64Var(&o.CostPerHour, "cost-per-hour", o.CostPerHour, "what this pod costs in USD per hour, exported as gpuwd_node_cost_per_hour_dollars so rules can price idle GPUs (0: not exported)")
	fs.StringVar(&o.NVMLLibrary, "nvml-library", o.NVMLLibrary, "NVML library to load")
	fs.StringVar(&o.Collectors, "collectors", o.Collectors,
		fmt.Sprintf("comma-separated collectors to run (default %s; all: %s)", strings.Join(defaults, ","), strings.Join(all, ",")))
	fs.BoolVar(&o.CollectProcesses, "collect-processes", o.CollectProcesses,
		"also report GPU memory per process (host PIDs, as NVML gives them)")
	fs.StringVar(&o.AggregatorURL, "aggregator-url", o.AggregatorURL,
		"register with the gpuwd aggregator at this http(s) URL and heartbeat to it (empty: no registration)")
	fs.StringVar(&o.AggregatorToken, "token", o.AggregatorToken, "bearer token the aggregator accepts registrations with")
	fs.StringVar(&o.AggregatorTokenFile, "token-file", o.AggregatorTokenFile, "file holding --token")
	fs.StringVar(&o.AdvertiseURL, "advertise-url", o.AdvertiseURL,
		"metrics URL the aggregator should scrape (default: derived from RunPod's environment or the listen address)")
	fs.StringVar(&o.RegisterLabels, "register-labels", o.RegisterLabels,
		"comma-separated name=value target labels to register with, e.g. team=ml,cluster=eu")
	o.Slurm.RegisterFlags(fs)
	fs.StringVar(&o.Simulate, "simulate", o.Simulate,
		fmt.Sprintf("simulate GPUs instead of reading NVML: MODELxCOUNT[,…] or mixed (models: %s)", strings.Join(sim.ModelKeys(), ", ")))
	fs.Uint64Var(&o.SimulateSeed, "simulate-seed", o.SimulateSeed, "seed of the simulated machine (UUIDs, jobs)")
	fs.BoolVar(&o.SimulateStable, "simulate-stable", o.SimulateStable, "freeze simulated readings (for golden tests)")
	fs.StringVar(&o.SimulateSlurm, "simulate-slurm", o.SimulateSlurm,
		"with --simulate: be a node of a simulated Slurm cluster, head (also exports the cluster's series) or worker; "+
			"its jobs drive the simulated GPUs (empty: no Slurm)")
	fs.StringVar(&o.SimulateSlurmNodes, "simulate-slurm-nodes", o.SimulateSlurmNodes,
		"the simulated Slurm cluster, the same list on every agent of it: comma-separated NAME:GPUS[:up|idle|drain|down], "+
			"GPUS a count or TYPExCOUNT (h100x8); this agent is the node named --slurm-node-name or its short hostname")
	fs.Uint64Var(&o.SimulateSlurmSeed, "simulate-slurm-seed", o.SimulateSlurmSeed,
		"seed of the simulated Slurm cluster's jobs, the same on every agent of it")
}

// Check validates o, reporting every problem at once, and resolves the
// token files. New checks again; a main checks first to tell bad settings
// (exit 2) from failures at run time.
func (o *Options) Check() error {
	var errs []error
	if o.CostPerHour < 0 || o.CostPerHour != o.CostPerHour {
		errs = append(errs, fmt.Errorf("--cost-per-hour %v: must be a positive number of dollars", o.CostPerHour))
	}
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
	errs = append(errs, o.checkRegistration()...)
	if err := o.Slurm.Check(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, o.checkSimulatedSlurm()...)
	return errors.Join(errs...)
}

// checkRegistration validates the self-registration options and resolves
// --token-file. No message carries the token.
func (o *Options) checkRegistration() []error {
	var errs []error
	if o.AggregatorTokenFile != "" {
		b, err := os.ReadFile(o.AggregatorTokenFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("--token-file: %w", err))
		} else if o.AggregatorToken = strings.TrimSpace(string(b)); o.AggregatorToken == "" {
			errs = append(errs, fmt.Errorf("--token-file %s is empty", o.AggregatorTokenFile))
		}
	}
	if o.AggregatorURL != "" {
		if err := checkHTTPURL(o.AggregatorURL); err != nil {
			errs = append(errs, fmt.Errorf("--aggregator-url: %w", err))
		}
		if o.AggregatorToken == "" && o.AggregatorTokenFile == "" {
			errs = append(errs, errors.New("--aggregator-url needs --token or --token-file"))
		}
	}
	if o.AdvertiseURL != "" {
		if err := checkHTTPURL(o.AdvertiseURL); err != nil {
			errs = append(errs, fmt.Errorf("--advertise-url: %w", err))
		}
	}
	if _, err := parseLabels(o.RegisterLabels); err != nil {
		errs = append(errs, fmt.Errorf("--register-labels: %w", err))
	}
	return errs
}

// checkHTTPURL accepts an absolute http or https URL with a host. The URL is
// not repeated in the error: it may carry credentials.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q: must be http or https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	return nil
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// parseLabels parses "k=v,k2=v2". Names must be Prometheus label names the
// aggregator may set on a target: not reserved ("__…") and not job or
// instance, which the aggregator assigns.
func parseLabels(s string) (map[string]string, error) {
	labels := map[string]string{}
	for pair := range strings.SplitSeq(s, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || v == "":
			return nil, fmt.Errorf("%q: want name=value", pair)
		case !labelName.MatchString(k):
			return nil, fmt.Errorf("%q is not a valid label name", k)
		case strings.HasPrefix(k, "__"):
			return nil, fmt.Errorf("%q: names starting with __ are reserved", k)
		case k == "job" || k == "instance":
			return nil, fmt.Errorf("%q is set by the aggregator", k)
		}
		if _, dup := labels[k]; dup {
			return nil, fmt.Errorf("%q given twice", k)
		}
		labels[k] = v
	}
	return labels, nil
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
