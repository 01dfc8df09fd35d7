package webtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// pollInterval is how often the waiting helpers look at the page again.
const pollInterval = 50 * time.Millisecond

// Selectors are CSS selectors, as document.querySelectorAll takes them, for
// example `[data-testid="gpu-count"]`. Helpers that read or act on one
// element use the first match, and wait for it to exist.

// TestID returns the selector of the elements whose data-testid is id.
func TestID(id string) string { return "[data-testid=" + jsString(id) + "]" }

// Count is the number of elements that match selector now: it does not wait.
func (p *Page) Count(selector string) int {
	p.t.Helper()
	n, err := waitJS(p, countJS(selector), func(int) bool { return true })
	if err != nil {
		p.fail("counting %q: %v", selector, err)
	}
	return n
}

// WaitFor waits until an element matches selector.
func (p *Page) WaitFor(selector string) {
	p.t.Helper()
	if _, err := waitJS(p, countJS(selector), func(n int) bool { return n > 0 }); err != nil {
		p.fail("waiting for %q: no such element (%v)", selector, err)
	}
}

// WaitCount waits until exactly n elements match selector.
func (p *Page) WaitCount(selector string, n int) {
	p.t.Helper()
	got, err := waitJS(p, countJS(selector), func(got int) bool { return got == n })
	if err != nil {
		p.fail("waiting for %d elements %q: there are %d (%v)", n, selector, got, err)
	}
}

// Text is the rendered text (innerText, trimmed) of the first element that
// matches selector.
func (p *Page) Text(selector string) string {
	p.t.Helper()
	s, err := waitJS(p, firstJS(selector, `el.innerText`), notNil[string])
	if err != nil {
		p.fail("reading the text of %q: no such element (%v)", selector, err)
	}
	return strings.TrimSpace(*s)
}

// Texts are the rendered texts (trimmed) of all the elements that match
// selector now, in document order: it does not wait.
func (p *Page) Texts(selector string) []string {
	p.t.Helper()
	expr := fmt.Sprintf(`Array.from(document.querySelectorAll(%s), el => el.innerText.trim())`, jsString(selector))
	texts, err := waitJS(p, expr, func([]string) bool { return true })
	if err != nil {
		p.fail("reading the texts of %q: %v", selector, err)
	}
	return texts
}

// WaitText waits until the text of the first element that matches selector
// contains substring, as a page that refreshes itself gets there.
func (p *Page) WaitText(selector, substring string) {
	p.t.Helper()
	s, err := waitJS(p, firstJS(selector, `el.innerText`), func(s *string) bool {
		return s != nil && strings.Contains(*s, substring)
	})
	if err != nil {
		now := "there is no such element"
		if s != nil {
			now = fmt.Sprintf("its text is %q", strings.TrimSpace(*s))
		}
		p.fail("waiting for %q to contain %q: %s (%v)", selector, substring, now, err)
	}
}

// Attr is the value of the attribute name of the first element that matches
// selector, or "" where it has none (select `sel[name]` to tell).
func (p *Page) Attr(selector, name string) string {
	p.t.Helper()
	type attr struct {
		Value *string `json:"value"`
	}
	a, err := waitJS(p, firstJS(selector, `({value: el.getAttribute(`+jsString(name)+`)})`), notNil[attr])
	if err != nil {
		p.fail("reading the attribute %s of %q: no such element (%v)", name, selector, err)
	}
	if a.Value == nil {
		return ""
	}
	return *a.Value
}

// Value is the current value of the first form control that matches
// selector.
func (p *Page) Value(selector string) string {
	p.t.Helper()
	s, err := waitJS(p, firstJS(selector, `String(el.value ?? "")`), notNil[string])
	if err != nil {
		p.fail("reading the value of %q: no such element (%v)", selector, err)
	}
	return *s
}

// Eval evaluates the JavaScript expression js in the page (awaiting a
// promise) and decodes its JSON value into out, unless out is nil. It works
// in a page opened with NoJS too: only the page's own scripts are disabled.
func (p *Page) Eval(js string, out any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.fail("evaluating %s: %v", js, explain(err, p.timeout))
	}
	if out == nil {
		return
	}
	if raw == nil {
		p.fail("evaluating %s: the result is undefined", js)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		p.fail("evaluating %s: decoding %s: %v", js, raw, err)
	}
}

// waitJS evaluates expr until its value satisfies done, and returns it, or
// the last value with an error when the page's timeout is over. Errors while
// the page navigates count as not done; an exception in expr (a bad
// selector) ends the wait at once.
func waitJS[T any](p *Page, expr string, done func(T) bool) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	var last T
	var lastErr error
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
		if err == nil {
			if done(v) {
				return v, nil
			}
			last, lastErr = v, nil
		} else if ex := (*chromedp.ExceptionError)(nil); errors.As(err, &ex) {
			return last, err
		} else if ctx.Err() == nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return last, fmt.Errorf("timed out after %v; last error: %v", p.timeout, lastErr)
			}
			return last, fmt.Errorf("timed out after %v", p.timeout)
		case <-time.After(pollInterval):
		}
	}
}

// notNil is a done func for a result that is null while the element is
// missing.
func notNil[T any](v *T) bool { return v != nil }

// countJS is an expression counting the elements that match selector.
func countJS(selector string) string {
	return fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(selector))
}

// firstJS is an expression giving body, with el the first element that
// matches selector, or null when there is none.
func firstJS(selector, body string) string {
	return fmt.Sprintf(`(el => el ? %s : null)(document.querySelector(%s))`, body, jsString(selector))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
