package formtest

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// Client is one person's session with a gpuwd dashboard.
type Client struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

// New is a session with the dashboard at base (http://host:port), not
// logged in.
func New(t testing.TB, base string) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Login is a session logged in with the admin token in tokenFile, as gpuwd
// wrote it in its data directory.
func Login(t testing.TB, base, tokenFile string) *Client {
	t.Helper()
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	c := New(t, base)
	c.Get("/login")
	if code, page := c.Post("/login", url.Values{"password": {strings.TrimSpace(string(token))}}); code != http.StatusSeeOther {
		t.Fatalf("login with the admin token: %d %s", code, Text(page, "main"))
	}
	return c
}

// Do sends req and reads the answer as HTML, keeping its CSRF token.
func (c *Client) Do(req *http.Request) (int, *goquery.Document) {
	c.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if v, ok := doc.Find(`input[name=_csrf]`).First().Attr("value"); ok {
		c.csrf = v
	}
	return resp.StatusCode, doc
}

// Get reads a page.
func (c *Client) Get(path string) (int, *goquery.Document) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.Do(req)
}

// Post submits a form, with the last page's CSRF token.
func (c *Client) Post(path string, form url.Values) (int, *goquery.Document) {
	c.t.Helper()
	form.Set("_csrf", c.csrf)
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// Text is the text of what sel selects, its white space collapsed.
func Text(doc *goquery.Document, sel string) string {
	return strings.Join(strings.Fields(doc.Find(sel).Text()), " ")
}

// URL is path on the dashboard.
func (c *Client) URL(path string) string { return c.base + path }

// HTTP is the session's client (its cookies, no redirects followed), for
// requests that are not pages: a download, an asset.
func (c *Client) HTTP() *http.Client { return c.c }

// Rebase moves the session to a new address (gpuwd restarted elsewhere).
func (c *Client) Rebase(base string) { c.base = base }

// CSRF is the CSRF token of the last page read.
func (c *Client) CSRF() string { return c.csrf }
