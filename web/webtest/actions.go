package webtest

import (
	"context"
	"fmt"

	"github.com/chromedp/chromedp"
)

// target is where a click lands, as targetJS finds it.
type target struct {
	State string  `json:"state"` // "ok", or why the element cannot be clicked
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	How   string  `json:"how"` // for Submit: "click" or "requestSubmit"
}

// targetJS is a JavaScript function that scrolls el into view and tells
// where a click at its centre lands, or why it cannot.
const targetJS = `function (el) {
	if (!el) return {state: "no such element"};
	if (el.disabled) return {state: "disabled"};
	el.scrollIntoView({block: "center", inline: "center"});
	const r = el.getBoundingClientRect();
	if (r.width === 0 || r.height === 0) return {state: "not visible"};
	const x = r.left + r.width / 2, y = r.top + r.height / 2;
	const hit = document.elementFromPoint(x, y);
	if (hit !== el && !el.contains(hit)) {
		return {state: "covered by " + (hit ? hit.outerHTML.slice(0, 100) : "nothing")};
	}
	return {state: "ok", x: x, y: y, how: "click"};
}`

// submitJS finds the form of el and the button that submits it.
const submitJS = `function (el) {
	if (!el) return {state: "no such element"};
	const buttons = "button:not([type]), button[type=submit], input[type=submit], input[type=image]";
	const form = el.form || el.closest("form");
	if (!form) return {state: "not in a form"};
	const button = el.matches(buttons) ? el : Array.from(form.elements).find(e => e.matches(buttons));
	if (!button) return {state: "ok", how: "requestSubmit"};
	return (` + targetJS + `)(button);
}`

// Click clicks the centre of the first element that matches selector with
// the mouse, once it is there, visible, enabled and not covered. It does not
// wait for what the click causes: see ClickAndWait.
func (p *Page) Click(selector string) {
	p.t.Helper()
	at := p.target(selector, targetJS)
	p.do(fmt.Sprintf("clicking %q", selector), chromedp.MouseClickXY(at.X, at.Y))
}

// ClickAndWait clicks like Click, and waits for the page that the click
// loads (following a link, submitting a form).
func (p *Page) ClickAndWait(selector string) {
	p.t.Helper()
	at := p.target(selector, targetJS)
	p.navigateBy(fmt.Sprintf("clicking %q", selector), chromedp.MouseClickXY(at.X, at.Y))
}

// Submit submits the form that the first element matching selector is or is
// in, by clicking its submit button as a person would (or requestSubmit where
// it has none), and waits for the page that the submission loads. For a form
// that the page's JavaScript handles without loading a page, Click its
// button and wait for the result instead.
func (p *Page) Submit(selector string) {
	p.t.Helper()
	at := p.target(selector, submitJS)
	what := fmt.Sprintf("submitting %q", selector)
	if at.How == "requestSubmit" {
		p.navigateBy(what, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
			`(el => (el.form || el.closest("form")).requestSubmit())(document.querySelector(%s))`, jsString(selector))))
		return
	}
	p.navigateBy(what, chromedp.MouseClickXY(at.X, at.Y))
}

// Fill replaces the value of the form control that matches selector: it
// types value into a text field or textarea (so "\n" presses Enter), and sets
// the value of a select and of date, time, colour and range inputs directly,
// with input and change events. Click checkboxes and radio buttons instead.
func (p *Page) Fill(selector, value string) {
	p.t.Helper()
	prepare := fmt.Sprintf(`(function (el) {
		if (!el) return {state: "no such element"};
		if (el.disabled || el.readOnly) return {state: "disabled or read-only"};
		const direct = el.tagName === "SELECT" ||
			["date", "time", "datetime-local", "month", "week", "color", "range"].includes(el.type);
		if (!direct && !("value" in el)) return {state: "not a form control"};
		if (["checkbox", "radio", "file", "submit", "button", "image", "reset"].includes(el.type)) {
			return {state: "a " + el.type + " input cannot be filled"};
		}
		el.focus();
		el.value = direct ? %s : "";
		el.dispatchEvent(new Event("input", {bubbles: true}));
		if (direct) el.dispatchEvent(new Event("change", {bubbles: true}));
		return {state: "ok", how: direct ? "set" : "type"};
	})(document.querySelector(%s))`, jsString(value), jsString(selector))
	at, err := waitJS(p, prepare, func(t target) bool { return t.State == "ok" })
	if err != nil {
		p.fail("filling %q: %s (%v)", selector, at.State, err)
	}
	if at.How == "type" && value != "" {
		p.do(fmt.Sprintf("typing into %q", selector), chromedp.KeyEvent(value))
	}
}

// target waits until the function fn (targetJS or submitJS) finds a place to
// click for the first element that matches selector.
func (p *Page) target(selector, fn string) target {
	p.t.Helper()
	expr := fmt.Sprintf(`(%s)(document.querySelector(%s))`, fn, jsString(selector))
	at, err := waitJS(p, expr, func(t target) bool { return t.State == "ok" })
	if err != nil {
		state := at.State
		if state == "" {
			state = "no such element"
		}
		p.fail("cannot click %q: %s (%v)", selector, state, err)
	}
	return at
}

// navigateBy runs action and waits for the page that it loads.
func (p *Page) navigateBy(what string, action chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, action)
	if err != nil {
		p.fail("%s: no page loaded: %v", what, explain(err, p.timeout))
	}
	if resp != nil {
		p.setStatus(resp.Status)
	}
	p.url = p.URL()
}
