package webtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// ArtifactsEnv names the environment variable that sets where screenshots
// go; without it they go to test-artifacts/ at the module root.
const ArtifactsEnv = "GPUWD_ARTIFACTS"

// ArtifactDir is the directory for the test's artefacts,
// $GPUWD_ARTIFACTS/<test name>/ or <module root>/test-artifacts/<test name>/
// (a subtest in a subdirectory of its parent's), created if need be.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	dir, err := artifactDir(t.Name())
	if err != nil {
		t.Fatalf("webtest: artefact directory: %v", err)
	}
	return dir
}

func artifactDir(testName string) (string, error) {
	root := os.Getenv(ArtifactsEnv)
	if root == "" {
		mod, err := moduleRoot()
		if err != nil {
			return "", err
		}
		root = filepath.Join(mod, "test-artifacts")
	}
	parts := []string{root}
	for _, seg := range strings.Split(testName, "/") {
		if seg = safeName(seg); seg != "" {
			parts = append(parts, seg)
		}
	}
	dir := filepath.Join(parts...)
	return dir, os.MkdirAll(dir, 0o755)
}

// moduleRoot is the directory of the go.mod above the working directory,
// which go test sets to the package's directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s; set %s", dir, ArtifactsEnv)
		}
	}
}

// safeName keeps a name to letters, digits, '.', '-' and '_', so that it
// is one plain path element.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
	if strings.Trim(s, ".") == "" {
		return ""
	}
	return s
}

// Screenshot saves a PNG of the whole page (beyond the viewport) as
// <name>.png in the test's ArtifactDir, logs its path and returns it.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	path, err := p.saveScreenshot(ctx, name)
	if err != nil {
		p.fail("screenshot %s: %v", name, explain(err, p.timeout))
	}
	p.t.Logf("webtest: screenshot %s", path)
	return path
}

func (p *Page) saveScreenshot(ctx context.Context, name string) (string, error) {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	return p.save(name+".png", png)
}

// saveHTML saves the page's current DOM as HTML.
func (p *Page) saveHTML(ctx context.Context, name string) (string, error) {
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		return "", err
	}
	return p.save(name+".html", []byte(html))
}

func (p *Page) save(file string, data []byte) (string, error) {
	dir, err := artifactDir(p.t.Name())
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, safeName(file))
	return path, os.WriteFile(path, data, 0o644)
}

// Cookies are the cookies the page's browser context holds for its URL.
func (p *Page) Cookies() []*network.Cookie {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		p.fail("reading cookies: %v", explain(err, p.timeout))
	}
	return res.Cookies
}

// SetCookie sets a cookie for the page's current URL; it is sent from the
// next request on.
func (p *Page) SetCookie(name, value string) {
	p.t.Helper()
	p.do("setting the cookie "+name, call(network.SetCookie, network.SetCookieParams{
		Name: name, Value: value, URL: p.URL(),
	}))
}
