package aggregator_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/gpu-watchdog/gpu-watchdog/agent"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
)

// Every dashboard page, as an admin sees it with a scraped agent, is sent
// with a Content-Security-Policy, no sniffing, no framing and a
// same-origin Referrer-Policy, and loads nothing the policy would block:
// no inline script, style or event handler, scripts and stylesheets from
// this site only. The session and CSRF cookies are HttpOnly and
// SameSite=Strict, and Secure when the external URL is https.
func TestSecurityHeadersAndCookies(t *testing.T) {
	t.Parallel()
	addr, _ := startAgentLogged(t, agent.Options{Simulate: "h100x2", Hostname: "gpu-node-1", SimulateStable: true})
	s, _ := startServerLogged(t, `global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs: [{job_name: gpu, static_configs: [{targets: ["`+addr+`"]}]}]
`, nil)
	base := "http://" + s.Addr()
	b := login(t, s)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		if code, page := b.Get("/nodes/gpu-node-1"); code == http.StatusOK && page.Find("svg").Length() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the node's page never showed its charts")
		}
	}

	paths := []string{"/nodes/gpu-node-1"}
	for _, r := range s.Routes() {
		if r.Dashboard && r.Method == http.MethodGet && !strings.Contains(r.Path, ":") && !strings.HasSuffix(r.Path, "*") {
			paths = append(paths, r.Path)
		}
	}
	for _, p := range paths {
		resp, err := b.HTTP().Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		checkHeaders(t, p, resp.Header)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			continue // the rules' export
		}
		checkPageFitsCSP(t, p, doc)
	}
	// The assets too.
	_, page := b.Get("/")
	page.Find(`script[src], link[href]`).Each(func(_ int, el *goquery.Selection) {
		src := el.AttrOr("src", el.AttrOr("href", ""))
		resp, err := b.HTTP().Get(base + src)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d, X-Content-Type-Options %q", src, resp.StatusCode, resp.Header.Get("X-Content-Type-Options"))
		}
	})

	checkCookies(t, s, false)
	https, _ := startServerLogged(t, "", func(o *aggregator.Options) { o.ExternalURL = "https://gpuwd.example" })
	checkCookies(t, https, true)
}

func checkHeaders(t *testing.T, path string, h http.Header) {
	t.Helper()
	csp := map[string]string{}
	for d := range strings.SplitSeq(h.Get("Content-Security-Policy"), ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		csp[name] = value
	}
	for name, want := range map[string]string{"default-src": "'self'", "script-src": "'self'", "style-src": "'self'",
		"object-src": "'none'", "base-uri": "'none'", "frame-ancestors": "'none'", "form-action": "'self'"} {
		if csp[name] != want {
			t.Errorf("%s: Content-Security-Policy %s is %q, want %q (%s)", path, name, csp[name], want, h.Get("Content-Security-Policy"))
		}
	}
	for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %s %q, want %q", path, name, got, want)
		}
	}
}

// checkPageFitsCSP fails on what the policy above would block: the page
// would break in a browser, or the policy was loosened for it.
func checkPageFitsCSP(t *testing.T, path string, doc *goquery.Document) {
	t.Helper()
	local := func(u string) bool { return strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") }
	doc.Find("*").Each(func(_ int, el *goquery.Selection) {
		tag := goquery.NodeName(el)
		for _, a := range el.Nodes[0].Attr {
			if strings.HasPrefix(a.Key, "on") || a.Key == "style" {
				t.Errorf("%s: <%s %s=%q>: inline handlers and styles are blocked", path, tag, a.Key, a.Val)
			}
		}
		switch tag {
		case "style", "iframe", "object", "embed", "base":
			t.Errorf("%s: a <%s> element", path, tag)
		case "script":
			if src, ok := el.Attr("src"); !ok || !local(src) {
				t.Errorf("%s: <script src=%q>: only scripts from this site run", path, src)
			}
		case "link":
			if href := el.AttrOr("href", ""); !local(href) {
				t.Errorf("%s: <link href=%q>", path, href)
			}
		case "img":
			if src := el.AttrOr("src", ""); !local(src) && !strings.HasPrefix(src, "data:") {
				t.Errorf("%s: <img src=%q>", path, src)
			}
		case "form":
			if action := el.AttrOr("action", ""); action != "" && !local(action) {
				t.Errorf("%s: <form action=%q>", path, action)
			}
		}
	})
}

// checkCookies logs in with the admin token and checks the CSRF and
// session cookies' attributes.
func checkCookies(t *testing.T, s *aggregator.Server, secure bool) {
	t.Helper()
	base := "http://" + s.Addr()
	c := client("")
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	resp, body := postForm(t, c, base+"/login", url.Values{"password": {readAdminToken(t, s)}}, csrfOf(t, c, base))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	cookies = append(cookies, resp.Cookies()...)
	seen := map[string]bool{}
	for _, ck := range cookies {
		seen[ck.Name] = true
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure != secure || ck.Path != "/" {
			t.Errorf("%s cookie %s: HttpOnly %t, SameSite %v, Secure %t, Path %q; want HttpOnly, Strict, Secure %t, /",
				base, ck.Name, ck.HttpOnly, ck.SameSite, ck.Secure, ck.Path, secure)
		}
	}
	if !seen[auth.CookieName] || !seen["gpuwd_csrf"] {
		t.Errorf("%s: cookies %v, want the session's and the CSRF token's", base, cookies)
	}
}
