package discovery

import (
	"maps"
	"net"
	"strings"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// Source names, in the order in which they win a duplicate.
const (
	SourceStatic     = "static"
	SourceFileSD     = "file_sd:" // followed by the file's path
	SourceRegistered = "registered"
)

// staticTargets are the static_configs targets of every job, in config order.
// config.Load has checked them already.
func staticTargets(cfg *config.Config) []target.Target {
	var ts []target.Target
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, addr := range st.Targets {
				ts = append(ts, newTarget(sc, addr, st.Labels, SourceStatic))
			}
		}
	}
	return ts
}

// newTarget is a host:port target of a job, with a copy of labels.
func newTarget(sc config.ScrapeConfig, addr string, labels map[string]string, source string) target.Target {
	t := target.Target{
		Job:         sc.JobName,
		Scheme:      sc.Scheme,
		MetricsPath: sc.MetricsPath,
		Source:      source,
	}
	if len(labels) > 0 {
		t.Labels = maps.Clone(labels)
	}
	t.Address = withDefaultPort(addr, t.Scheme)
	return t
}

// withDefaultPort adds the scheme's port to a bare host, as Prometheus 2 does
// (and as target.FromURL does), so "gpu1" and "gpu1:80" are the same target.
func withDefaultPort(addr, scheme string) string {
	if strings.Contains(addr, ":") {
		return addr
	}
	port := "80"
	if scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(addr, port)
}
