package webtest_test

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/web/webtest"
)

const brokenPage = `<!doctype html><title>broken</title>
<p data-testid="ok">rendered</p>
<img src="/missing.png" alt="">
<script>
console.log("not an error");
console.warn("not an error either");
console.error("boom", 42);
Promise.reject(new Error("rejected"));
throw new Error("kaput");
</script>`

func TestConsoleErrors(t *testing.T) {
	url := serve(t, map[string]string{"/{$}": brokenPage, "/clean": `<!doctype html><p>fine</p>`})
	b := webtest.Shared(t)

	p := b.Open(t, url)
	p.WaitFor(webtest.TestID("ok"))
	errs := p.ConsoleErrors()
	all := strings.Join(errs, "\n")
	for _, want := range []string{"console.error: boom 42", "Error: kaput", "Error: rejected", "missing.png"} {
		if !strings.Contains(all, want) {
			t.Errorf("console errors lack %q; got:\n%s", want, all)
		}
	}
	if strings.Contains(all, "not an error") {
		t.Errorf("console.log or console.warn taken for errors:\n%s", all)
	}

	clean := b.Open(t, url+"/clean")
	if errs := clean.ConsoleErrors(); len(errs) != 0 {
		t.Errorf("a clean page has console errors: %q", errs)
	}
	clean.NoConsoleErrors()
}

func TestScreenshot(t *testing.T) {
	root := t.TempDir()
	t.Setenv(webtest.ArtifactsEnv, root)
	url := serve(t, map[string]string{"/{$}": `<!doctype html><body style="margin:0">
<div style="height:2000px;background:linear-gradient(#036,#6cf)">tall</div>`})
	p := webtest.Shared(t).Open(t, url)

	path := p.Screenshot("tall page")
	if want := filepath.Join(root, "TestScreenshot", "tall_page.png"); path != want {
		t.Errorf("screenshot at %s, want %s", path, want)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG (%d bytes): %v", len(data), err)
	}
	if b := img.Bounds(); b.Dx() != webtest.Width || b.Dy() < 2000 {
		t.Errorf("screenshot is %dx%d, want the whole %dx2000 page", b.Dx(), b.Dy(), webtest.Width)
	}
	if dir := webtest.ArtifactDir(t); dir != filepath.Dir(path) {
		t.Errorf("ArtifactDir = %s, screenshot in %s", dir, filepath.Dir(path))
	}
}

// recorder is a testing.TB whose Fatalf records the message and ends the
// goroutine, so that a test can look at the failure a helper reports.
type recorder struct {
	testing.TB
	mu    sync.Mutex
	fatal string
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatal = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) message() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}

func TestFailureReport(t *testing.T) {
	root := t.TempDir()
	t.Setenv(webtest.ArtifactsEnv, root)
	url := serve(t, map[string]string{"/{$}": brokenPage})
	rec := &recorder{TB: t}
	p := webtest.Shared(t).Open(rec, url)
	p.SetTimeout(500 * time.Millisecond)

	done := make(chan struct{})
	go func() {
		defer close(done)
		p.WaitText(webtest.TestID("ok"), "never there")
	}()
	<-done
	msg := rec.message()
	t.Logf("the report:\n%s", msg)
	for _, want := range []string{
		`waiting for "[data-testid=\"ok\"]" to contain "never there": its text is "rendered"`,
		"timed out after 500ms",
		"console.error: boom 42",
		"Error: kaput",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	shot := filepath.Join(root, "TestFailureReport", "failure-1.png")
	if !strings.Contains(msg, "screenshot: "+shot) {
		t.Errorf("the report does not give the screenshot path %s", shot)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Errorf("failure screenshot: %v", err)
	}
}

func TestParallelPages(t *testing.T) {
	url := serve(t, map[string]string{"/{$}": listPage})
	b := webtest.Shared(t)
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			p := b.Open(t, url)
			if n := p.Count(webtest.TestID("gpu")); n != 3 {
				t.Errorf("%d GPUs", n)
			}
			p.Click(webtest.TestID("details"))
			p.WaitText("body", "404 page not found")
		})
	}
}
