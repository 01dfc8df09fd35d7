package target

import (
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Target is one endpoint to scrape.
type Target struct {
	Job         string // the job label, and the scrape config it is scraped with
	Scheme      string // "http" or "https"
	Address     string // host:port; also the instance label
	MetricsPath string // e.g. "/metrics"
	// Labels are attached to every series scraped from the target, after job
	// and instance (static_configs labels, file_sd labels, registration labels).
	Labels map[string]string
	// Meta are discovery facts shown in discoveredLabels (keys without the
	// "__meta_" prefix, e.g. "gpuwd_node"); never attached to series.
	Meta map[string]string
	// Source says where the target came from: "static", "file_sd:<path>",
	// "registered".
	Source string
}

// URL is the address scraped.
func (t Target) URL() string {
	u := url.URL{Scheme: t.Scheme, Host: t.Address, Path: t.MetricsPath}
	return u.String()
}

// Key identifies a target across discovery updates: the same job and URL is
// the same target, whatever its source.
func (t Target) Key() string { return t.Job + "\x00" + t.URL() }

// Instance is the instance label: the address, as Prometheus sets it.
func (t Target) Instance() string { return t.Address }

// DiscoveredLabels are the target's labels before relabelling, in
// Prometheus' naming (__address__, __scheme__, __metrics_path__, __meta_*).
func (t Target) DiscoveredLabels() map[string]string {
	m := map[string]string{
		"__address__":      t.Address,
		"__scheme__":       t.Scheme,
		"__metrics_path__": t.MetricsPath,
		"job":              t.Job,
	}
	maps.Copy(m, t.Labels)
	for k, v := range t.Meta {
		m["__meta_"+k] = v
	}
	return m
}

// FromURL builds a target from a metrics URL such as an agent advertises
// (http://10.0.0.5:9400/metrics or https://abc-9400.proxy.runpod.net/metrics).
// A missing port becomes the scheme's default, as Prometheus does.
func FromURL(job, raw string) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Target{}, &url.Error{Op: "parse", URL: raw, Err: errNotHTTP}
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Target{}, &url.Error{Op: "parse", URL: raw, Err: errExtras}
	}
	if !printableASCII(u.Host) {
		return Target{}, &url.Error{Op: "parse", URL: raw, Err: errHost}
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(strings.Trim(u.Hostname(), "[]"), port)
	}
	path := u.Path // unescaped, as metrics_path is: URL escapes it
	if path == "" {
		path = "/metrics"
	}
	return Target{Job: job, Scheme: u.Scheme, Address: addr, MetricsPath: path}, nil
}

type parseError string

func (e parseError) Error() string { return string(e) }

const (
	errNotHTTP = parseError("not an http(s) URL with a host")
	errExtras  = parseError("user info, query and fragment are not allowed in a target URL")
	errHost    = parseError("the host has bytes outside printable ASCII")
)

// printableASCII says whether s holds only printable ASCII. Host names and
// IPv6 zones (interface names) are ASCII; a URL cannot carry anything else
// in its host once escaped.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// Sort orders targets by job, then URL, so listings are stable.
func Sort(ts []Target) {
	slices.SortFunc(ts, func(a, b Target) int { return strings.Compare(a.Key(), b.Key()) })
}
