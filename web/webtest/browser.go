package webtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

const (
	// DefaultTimeout bounds every wait of a Page unless the Timeout option
	// or SetTimeout says otherwise.
	DefaultTimeout = 15 * time.Second

	// startTimeout bounds the start of Chromium; closeTimeout its graceful
	// close, after which its process group is killed.
	startTimeout = 60 * time.Second
	closeTimeout = 10 * time.Second

	// Width and Height are the size of the browser window and of each
	// page's viewport, in CSS pixels at a device scale factor of 1.
	Width  = 1280
	Height = 900
)

// Browser is one headless Chromium process. Its pages run in separate tabs,
// each in its own browser context (cookies, storage and cache are not shared
// between pages), so tests may open pages in parallel.
type Browser struct {
	ctx         context.Context // the chromedp context that owns the process
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	exe         string
	dataDir     string
	pid         int // also the process group: see ownProcessGroup
	output      *tailBuffer

	closeOnce sync.Once
	closeErr  error
}

// shared is the browser of the test binary.
var shared struct {
	mu    sync.Mutex
	main  bool     // Main runs the tests: the browser lives until they end
	b     *Browser // nil until a test asks for it
	err   error    // why it did not start, under Main: later tests fail at once
	users int      // without Main: the tests that hold b
}

// Shared returns the browser of the test binary, starting it on first use. It
// skips the test where Chromium is not installed (fails it under CI=true).
//
// Under [Main] the browser lives until all tests have run. Without it, the
// browser closes when no running test holds it any more, so sequential tests
// each start their own: use Main in TestMain.
func Shared(t testing.TB) *Browser {
	t.Helper()
	path := testenv.LookPath(t, "chromium")
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.err != nil {
		t.Fatalf("webtest: the shared browser did not start: %v", shared.err)
	}
	if shared.b == nil {
		b, err := launch(path)
		if err != nil {
			if shared.main {
				shared.err = err
			}
			t.Fatalf("webtest: %v", err)
		}
		shared.b = b
	}
	b := shared.b
	if !shared.main {
		shared.users++
		t.Cleanup(func() {
			shared.mu.Lock()
			defer shared.mu.Unlock()
			if shared.users--; shared.users == 0 && shared.b == b {
				shared.b = nil
				if err := b.Close(); err != nil {
					t.Errorf("webtest: %v", err)
				}
			}
		})
	}
	return b
}

// Main runs the tests with one shared browser and closes it when they end,
// checking that no Chromium process is left. Use it in TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(webtest.Main(m)) }
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.main = true
	shared.mu.Unlock()
	code := m.Run()
	if err := CloseShared(); err != nil {
		fmt.Fprintf(os.Stderr, "webtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// CloseShared closes the shared browser, if it runs; the next Shared starts
// a new one. Main calls it.
func CloseShared() error {
	shared.mu.Lock()
	b := shared.b
	shared.b, shared.err = nil, nil
	shared.mu.Unlock()
	if b == nil {
		return nil
	}
	return b.Close()
}

// Launch starts a browser of the test's own, closed when the test ends. Most
// tests want [Shared].
func Launch(t testing.TB) *Browser {
	t.Helper()
	path := testenv.LookPath(t, "chromium")
	b, err := launch(path)
	if err != nil {
		t.Fatalf("webtest: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("webtest: %v", err)
		}
	})
	return b
}

// launch starts Chromium from the program found at path.
func launch(path string) (*Browser, error) {
	exe := realBinary(path)
	dataDir, err := os.MkdirTemp("", "webtest-chromium-")
	if err != nil {
		return nil, err
	}
	b := &Browser{exe: exe, dataDir: dataDir, output: &tailBuffer{max: 16 << 10}}
	opts := append(flags(),
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(dataDir),
		chromedp.CombinedOutput(b.output),
		chromedp.ModifyCmdFunc(ownProcessGroup),
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	b.ctx, b.cancel = chromedp.NewContext(allocCtx)
	b.allocCancel = allocCancel
	// The first Run binds the process to b.ctx, so it must have no deadline:
	// within cancels b.ctx instead when the start takes too long.
	err = within(startTimeout, b.cancel, func() error { return chromedp.Do(b.ctx) })
	if c := chromedp.FromContext(b.ctx); c.Browser != nil && c.Browser.Process() != nil {
		b.pid = c.Browser.Process().Pid
	}
	if err != nil {
		cerr := b.Close()
		return nil, fmt.Errorf("starting %s: %v (close: %v)\nChromium's output:\n%s", exe, err, cerr, b.output)
	}
	return b, nil
}

// PID is the process id of Chromium's main process, which leads the process
// group of all its processes.
func (b *Browser) PID() int { return b.pid }

// Close closes the browser and its pages: gracefully if it can, then by
// killing its whole process group. It reports processes that survive, and is
// safe to call more than once.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() { b.closeErr = b.close() })
	return b.closeErr
}

func (b *Browser) close() error {
	_ = within(closeTimeout, b.cancel, func() error { return chromedp.Cancel(b.ctx) })
	b.cancel()
	killProcesses(b.pid, b.dataDir)
	b.allocCancel() // returns once the main process is reaped
	var errs []error
	if left := reapProcesses(b.pid, b.dataDir); len(left) > 0 {
		errs = append(errs, fmt.Errorf("chromium processes %v outlived the browser", left))
	}
	if err := removeAllRetry(b.dataDir); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("closing chromium (pid %d): %v", b.pid, errs)
	}
	return nil
}

// within runs f, and calls stop when it is not done after d: f is expected to
// end soon after, with the error of a canceled context.
func within(d time.Duration, stop func(), f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
	}
	stop()
	select {
	case err := <-done:
		return fmt.Errorf("timed out after %v: %w", d, err)
	case <-time.After(5 * time.Second):
		return fmt.Errorf("timed out after %v, and did not stop", d)
	}
}

// removeAllRetry removes dir; Chromium's last processes may still be writing
// into it for a moment.
func removeAllRetry(dir string) error {
	var err error
	for range 50 {
		if err = os.RemoveAll(dir); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// tailBuffer keeps the last max bytes written to it: Chromium's output, for
// the message of a failed start.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = w.buf[over:]
	}
	return len(p), nil
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(bytes.TrimSpace(w.buf))
}
