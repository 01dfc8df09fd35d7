package webtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// consoleLog collects a page's console errors from the moment its tab opens.
type consoleLog struct {
	mu   sync.Mutex
	errs []string
}

// listen receives the tab's events, in order, on chromedp's reading
// goroutine: it must be quick and must not call into the browser.
func (c *consoleLog) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		msg = "console." + string(ev.Type) + ": " + argsText(ev.Args) + stackPlace(ev.StackTrace)
	case *runtime.EventExceptionThrown:
		msg = "exception: " + exceptionText(ev.ExceptionDetails)
	case *log.EventEntryAdded:
		if ev.Entry == nil || ev.Entry.Level != log.EntryLevelError || isFavicon(ev.Entry.URL) {
			return
		}
		msg = string(ev.Entry.Source) + ": " + ev.Entry.Text
		if ev.Entry.URL != "" {
			msg += " (" + ev.Entry.URL + ")"
		}
	default:
		return
	}
	c.mu.Lock()
	c.errs = append(c.errs, msg)
	c.mu.Unlock()
}

// ConsoleErrors are the errors the page has reported so far: console.error
// and failed console.assert calls, uncaught exceptions and unhandled promise
// rejections, and the browser's own errors (a resource that failed to load,
// a blocked request), each with where it came from. The browser's automatic
// request for /favicon.ico is left out.
func (p *Page) ConsoleErrors() []string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	return p.consoleErrors(ctx)
}

// NoConsoleErrors fails the test if the page has reported errors.
func (p *Page) NoConsoleErrors() {
	p.t.Helper()
	if errs := p.ConsoleErrors(); len(errs) > 0 {
		p.fail("the page reported %d console errors", len(errs))
	}
}

func (p *Page) consoleErrors(ctx context.Context) []string {
	// The tab's listener sees every event that arrived before the reply to
	// a command, so a round trip brings the list up to date.
	_, _ = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`0`))
	p.console.mu.Lock()
	defer p.console.mu.Unlock()
	return append([]string(nil), p.console.errs...)
}

// isFavicon reports whether u is the /favicon.ico that the browser asks for
// by itself, whose absence is no error of the page.
func isFavicon(u string) bool {
	parsed, err := url.Parse(u)
	return err == nil && parsed.Path == "/favicon.ico"
}

// argsText formats the arguments of a console call as the console shows
// them, roughly.
func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		parts = append(parts, objectText(a))
	}
	return strings.Join(parts, " ")
}

func objectText(o *runtime.RemoteObject) string {
	switch {
	case o == nil:
		return ""
	case o.Type == runtime.RemoteObjectTypeString:
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
	case o.UnserializableValue != "":
		return string(o.UnserializableValue)
	case o.Description != "":
		return o.Description
	case len(o.Value) > 0:
		return string(o.Value)
	}
	return string(o.Type)
}

// exceptionText describes an exception ("Uncaught Error: boom") and where it
// was thrown.
func exceptionText(e *runtime.ExceptionDetails) string {
	if e == nil {
		return "exception"
	}
	text := e.Text
	if d := objectText(e.Exception); e.Exception != nil && d != "" {
		d, _, _ = strings.Cut(d, "\n") // the rest is the stack
		if !strings.Contains(text, d) {
			text += " " + d
		}
	}
	if e.URL != "" {
		text += fmt.Sprintf(" (%s:%d:%d)", e.URL, e.LineNumber+1, e.ColumnNumber+1)
	}
	return text
}

// stackPlace is " (url:line:column)" of the top frame of st.
func stackPlace(st *runtime.StackTrace) string {
	if st == nil || len(st.CallFrames) == 0 || st.CallFrames[0].URL == "" {
		return ""
	}
	f := st.CallFrames[0]
	return fmt.Sprintf(" (%s:%d:%d)", f.URL, f.LineNumber+1, f.ColumnNumber+1)
}
