package aggregator_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/gpu-watchdog/gpu-watchdog/agent"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
)

// The security tests (security_*_test.go) check what README's Security
// section promises, against a real server started as startServer does.

// startServerLogged runs gpuwd serve as startServer does, with edit
// applied to its options, keeping its log (JSON, debug level).
func startServerLogged(t testing.TB, config string, edit func(*aggregator.Options)) (*aggregator.Server, *syncLog) {
	t.Helper()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "gpuwd.yml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := aggregator.DefaultOptions()
	opts.ConfigFile, opts.Listen, opts.DataDir, opts.SelfScrape = cfgFile, "127.0.0.1:0", filepath.Join(dir, "data"), false
	if edit != nil {
		edit(&opts)
	}
	log := &syncLog{}
	s, err := aggregator.New(context.Background(), opts, slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s, log
}

// startAgentLogged runs a simulated agent in this process, keeping its
// log; with AggregatorURL set it registers, advertising its address.
func startAgentLogged(t testing.TB, opts agent.Options) (string, *syncLog) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.AggregatorURL != "" && opts.AdvertiseURL == "" {
		opts.AdvertiseURL = "http://" + ln.Addr().String() + "/metrics"
	}
	opts.SampleInterval = 200 * time.Millisecond
	log := &syncLog{}
	a, err := agent.New(opts, slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String(), log
}

// client is an HTTP client that keeps cookies and follows no redirect;
// from, when set, is the loopback address it connects from (127.0.0.2…),
// so one test can be many clients to the server's per-address limits.
func client(from string) *http.Client {
	jar, _ := cookiejar.New(nil)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if from != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
		tr.DialContext = d.DialContext
	}
	return &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// csrfOf is the CSRF token of the login form, for c (whose jar keeps the
// cookie it belongs to).
func csrfOf(t testing.TB, c *http.Client, base string) string {
	t.Helper()
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	token, ok := doc.Find(`input[name=_csrf]`).Attr("value")
	if !ok {
		t.Fatal("the login form has no CSRF token")
	}
	return token
}

// postForm posts form (with the CSRF token, when given) and returns the
// response, its body read.
func postForm(t testing.TB, c *http.Client, u string, form url.Values, csrf string) (*http.Response, string) {
	t.Helper()
	if csrf != "" {
		form.Set("_csrf", csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(t, c, req)
}

func send(t testing.TB, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var routeParam = regexp.MustCompile(`\{[^}]*\}|:[a-z_]+|\*$`)

// concrete is a path that route matches: each parameter a word (a UUID
// where the API wants one), {$} nothing.
func concrete(route string) string {
	return routeParam.ReplaceAllStringFunc(route, func(p string) string {
		switch p {
		case "{$}":
			return ""
		case "{id}":
			return "9f1c2a54-7a0e-4d43-9a8e-0d9c5f3b2e11"
		case "*":
			return "x"
		}
		return "x"
	})
}
