package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"
)

// advertise holds what the advertised metrics URL is derived from.
type advertise struct {
	flag       string // --advertise-url
	listen     string // --listen as configured
	bound      net.Addr
	tls        bool
	aggregator *url.URL
	lookup     func(string) (string, bool) // os.LookupEnv outside tests
}

// url returns the metrics URL the aggregator should scrape, the first of:
//
//  1. --advertise-url;
//  2. RunPod's public TCP mapping of the listen port:
//     http://$RUNPOD_PUBLIC_IP:$RUNPOD_TCP_PORT_<port>/metrics;
//  3. RunPod's HTTP proxy: https://$RUNPOD_POD_ID-<port>.proxy.runpod.net/metrics;
//  4. the listen address, when it names a host rather than all interfaces;
//  5. the local address of the route to the aggregator, with the listen port.
//
// The scheme is https when the agent serves TLS (and always for RunPod's
// proxy, which only speaks HTTPS).
func (a advertise) url(ctx context.Context) (string, error) {
	if a.flag != "" {
		return a.flag, nil
	}
	_, portStr, err := net.SplitHostPort(a.bound.String())
	if err != nil {
		return "", fmt.Errorf("listen address %s: %w", a.bound, err)
	}
	scheme := "http"
	if a.tls {
		scheme = "https"
	}
	metrics := func(host, port string) string {
		return (&url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: "/metrics"}).String()
	}
	if ip := a.env("RUNPOD_PUBLIC_IP"); ip != "" {
		if public := a.env("RUNPOD_TCP_PORT_" + portStr); public != "" {
			if _, err := strconv.ParseUint(public, 10, 16); err != nil {
				return "", fmt.Errorf("RUNPOD_TCP_PORT_%s=%q: not a port", portStr, public)
			}
			return metrics(ip, public), nil
		}
	}
	if pod := a.env("RUNPOD_POD_ID"); pod != "" {
		return fmt.Sprintf("https://%s-%s.proxy.runpod.net/metrics", pod, portStr), nil
	}
	if host := concreteHost(a.listen); host != "" {
		return metrics(host, portStr), nil
	}
	if host := concreteHost(a.bound.String()); host != "" {
		return metrics(host, portStr), nil
	}
	ip, err := routeTo(ctx, a.aggregator)
	if err != nil {
		return "", fmt.Errorf("finding the address the aggregator can reach this agent at (set --advertise-url): %w", err)
	}
	return metrics(ip, portStr), nil
}

func (a advertise) env(name string) string {
	v, _ := a.lookup(name)
	return v
}

// concreteHost is the host of a host:port address, or "" when it names all
// interfaces (":9400", "0.0.0.0:9400", "[::]:9400").
func concreteHost(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return ""
	}
	return host
}

// routeTo returns the local IP of the route to u's host. Dialing UDP only
// picks the route: no packet is sent.
func routeTo(ctx context.Context, u *url.URL) (string, error) {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "udp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return "", err
	}
	defer conn.Close()
	addr, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok || addr.IP.IsUnspecified() {
		return "", errors.New("no route")
	}
	return addr.IP.String(), nil
}

// nodeName is the name the agent registers as: --hostname when given, else
// RunPod's pod hostname, else the machine's.
func nodeName(flagHostname, machine string, lookup func(string) (string, bool)) string {
	if flagHostname != "" {
		return flagHostname
	}
	if h, _ := lookup("RUNPOD_POD_HOSTNAME"); h != "" {
		return h
	}
	return machine
}

// redactURL is s without user info and query, for logs.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparsable URL>"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// redactError replaces the URL in a client error (which may carry
// credentials) with its redacted form.
func redactError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
	}
	return err
}
