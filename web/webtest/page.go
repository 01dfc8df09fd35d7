package webtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Page is a browser tab that a test drives. Its methods wait at most its
// timeout, fail the test (t.Fatalf, so call them from the test's goroutine)
// with a screenshot path and the page's console errors, and are not for use
// from several goroutines at once. The tab closes when the test ends.
type Page struct {
	t       testing.TB
	ctx     context.Context
	cancel  context.CancelFunc
	timeout time.Duration
	console consoleLog
	url     string // last navigated to
	status  int    // HTTP status of the last document loaded by a navigation
	reports int    // failure reports made
}

// Option configures a page opened by Browser.Open.
type Option func(*pageConfig)

type pageConfig struct {
	noJS        bool
	colorScheme string
	timeout     time.Duration
	width       int
	height      int
}

// NoJS opens the page with JavaScript disabled (<noscript> applies, scripts
// do not run), for checking that a page works without it.
func NoJS() Option { return func(c *pageConfig) { c.noJS = true } }

// ColorScheme emulates the prefers-color-scheme media feature: "dark" or
// "light".
func ColorScheme(scheme string) Option { return func(c *pageConfig) { c.colorScheme = scheme } }

// Timeout sets how long the page's loads and helpers wait (DefaultTimeout
// otherwise; opening the tab always gets at least DefaultTimeout).
func Timeout(d time.Duration) Option { return func(c *pageConfig) { c.timeout = d } }

// Viewport sets the page's viewport size in CSS pixels (Width×Height
// otherwise), for narrow layouts.
func Viewport(width, height int) Option {
	return func(c *pageConfig) { c.width, c.height = width, height }
}

// Open opens url in a new tab, in a browser context of its own, and waits for
// it to load. Pages also get the UTC time zone and the en-US locale.
func (b *Browser) Open(t testing.TB, url string, opts ...Option) *Page {
	t.Helper()
	cfg := pageConfig{timeout: DefaultTimeout, width: Width, height: Height}
	for _, o := range opts {
		o(&cfg)
	}
	p := &Page{t: t, timeout: cfg.timeout}
	p.ctx, p.cancel = chromedp.NewContext(b.ctx,
		chromedp.WithNewBrowserContext(),
		chromedp.WithListener(p.console.listen))
	t.Cleanup(p.close)
	// The first Run binds the tab to p.ctx, so it gets no deadline: within
	// cancels p.ctx instead when opening the tab takes too long. That is the
	// browser's work, not the page's, so a short page timeout does not apply.
	open := max(p.timeout, DefaultTimeout)
	if err := within(open, p.cancel, func() error { return chromedp.Do(p.ctx) }); err != nil {
		p.cancel()
		t.Fatalf("webtest: opening a tab for %s: %v", url, err)
	}
	steps := []chromedp.Action[chromedp.Void]{
		call(emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: int64(cfg.width), Height: int64(cfg.height), DeviceScaleFactor: 1,
		}),
		call(emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "UTC"}),
		call(emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "en_US"}),
	}
	if cfg.noJS {
		steps = append(steps, call(emulation.SetScriptExecutionDisabled,
			emulation.SetScriptExecutionDisabledParams{Value: true}))
	}
	p.do("setting up the tab", steps...)
	if cfg.colorScheme != "" {
		p.SetColorScheme(cfg.colorScheme)
	}
	p.Navigate(url)
	return p
}

// OpenNoJS is Open with the NoJS option.
func (b *Browser) OpenNoJS(t testing.TB, url string, opts ...Option) *Page {
	t.Helper()
	return b.Open(t, url, append(opts, NoJS())...)
}

// Navigate loads url in the page and waits for it to load. An HTTP error
// status is no failure: see Status.
func (p *Page) Navigate(url string) {
	p.t.Helper()
	p.url = url
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		p.fail("loading %s: %v", url, explain(err, p.timeout))
	}
	if resp != nil {
		p.setStatus(resp.Status)
	}
}

// Status is the HTTP status of the document last loaded by Open, Navigate,
// Submit or ClickAndWait (0 if unknown).
func (p *Page) Status() int { return p.status }

func (p *Page) setStatus(status int64) { p.status = int(status) }

// URL is the page's current location.
func (p *Page) URL() string {
	p.t.Helper()
	var u string
	p.Eval(`location.href`, &u)
	return u
}

// SetColorScheme emulates prefers-color-scheme ("dark", "light", or "" for
// the default) from now on.
func (p *Page) SetColorScheme(scheme string) {
	p.t.Helper()
	p.do("emulating prefers-color-scheme: "+scheme, call(emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}))
}

// SetTimeout changes how long the page's helpers wait.
func (p *Page) SetTimeout(d time.Duration) { p.timeout = d }

// do runs the steps within the page's timeout, failing the test on error.
func (p *Page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fail("%s: %v", what, explain(err, p.timeout))
	}
}

// call makes an action of a protocol command whose result is not needed.
func call[P, R any](cmd cdp.Command[P, R], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cmd, params)
		return err
	})
}

// explain says that a deadline is the page's timeout.
func explain(err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %v (%w)", timeout, err)
	}
	return err
}

// fail ends the test with msg, a screenshot and the console errors.
func (p *Page) fail(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("%s", p.report(fmt.Sprintf(format, args...)))
}

// report describes a failure: msg, where the page is, a screenshot and the
// HTML saved to the artefact directory, and the console errors.
func (p *Page) report(msg string) string {
	p.reports++
	name := fmt.Sprintf("failure-%d", p.reports)
	var b strings.Builder
	fmt.Fprintf(&b, "webtest: %s\n  page: %s", msg, p.url)
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	if path, err := p.saveScreenshot(ctx, name); err != nil {
		fmt.Fprintf(&b, "\n  screenshot: none (%v)", err)
	} else {
		fmt.Fprintf(&b, "\n  screenshot: %s", path)
	}
	if path, err := p.saveHTML(ctx, name); err == nil {
		fmt.Fprintf(&b, "\n  html: %s", path)
	}
	errs := p.consoleErrors(ctx)
	if len(errs) == 0 {
		b.WriteString("\n  console errors: none")
	} else {
		b.WriteString("\n  console errors:")
		for _, e := range errs {
			b.WriteString("\n    " + e)
		}
	}
	return b.String()
}

// close reports on a test that failed without a helper noticing, and closes
// the tab.
func (p *Page) close() {
	if p.t.Failed() && p.reports == 0 && p.ctx.Err() == nil {
		p.t.Log(p.report("the test failed; the page as it was at the end"))
	}
	p.cancel()
}
