package webtest_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/web/webtest"
)

func TestMain(m *testing.M) { os.Exit(webtest.Main(m)) }

// serve serves each page's HTML at its path pattern (http.ServeMux syntax) on
// 127.0.0.1; other paths are 404.
func serve(t *testing.T, pages map[string]string, handlers ...func(*http.ServeMux)) string {
	t.Helper()
	mux := http.NewServeMux()
	for pattern, body := range pages {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, body)
		})
	}
	for _, h := range handlers {
		h(mux)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

const listPage = `<!doctype html><title>GPUs</title>
<h1 data-testid="title">  Fleet  </h1>
<ul>
  <li data-testid="gpu">gpu0 <span class="temp">61 °C</span></li>
  <li data-testid="gpu">gpu1 <span class="temp">64 °C</span></li>
  <li data-testid="gpu">gpu2 <span class="temp">59 °C</span></li>
</ul>
<a data-testid="details" href="/details?gpu=1" title="GPU 1">details</a>`

func TestTextAndCountByTestID(t *testing.T) {
	url := serve(t, map[string]string{"/{$}": listPage})
	p := webtest.Shared(t).Open(t, url)

	if got := p.Text(webtest.TestID("title")); got != "Fleet" {
		t.Errorf("title = %q, want Fleet", got)
	}
	if got := p.Count(webtest.TestID("gpu")); got != 3 {
		t.Errorf("%d GPUs, want 3", got)
	}
	if got := p.Count(webtest.TestID("nothing")); got != 0 {
		t.Errorf("%d elements for a missing test id", got)
	}
	want := []string{"61 °C", "64 °C", "59 °C"}
	if got := p.Texts(".temp"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("temperatures = %q, want %q", got, want)
	}
	if got := p.Attr(webtest.TestID("details"), "href"); got != "/details?gpu=1" {
		t.Errorf("href = %q", got)
	}
	if got := p.Attr(webtest.TestID("details"), "data-none"); got != "" {
		t.Errorf("a missing attribute reads %q", got)
	}
	if p.Status() != http.StatusOK {
		t.Errorf("status %d", p.Status())
	}
	var size struct{ W, H int }
	p.Eval(`({W: innerWidth, H: innerHeight})`, &size)
	if size.W != webtest.Width || size.H != webtest.Height {
		t.Errorf("viewport %dx%d, want %dx%d", size.W, size.H, webtest.Width, webtest.Height)
	}
}

const formPage = `<!doctype html><title>Silence</title>
<form method="post" action="/silence">
  <label>Who <input name="who" data-testid="who" value="nobody"></label>
  <select name="for" data-testid="for"><option>1h</option><option>4h</option></select>
  <button>Silence</button>
</form>
<button type="button" data-testid="inc" onclick="n.textContent = +n.textContent + 1">+1</button>
<output id="n" data-testid="n">0</output>`

// silence answers the form as the dashboard does: POST, set a cookie,
// redirect to a page that shows the result.
func silence(mux *http.ServeMux) {
	mux.HandleFunc("POST /silence", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "flash", Value: "silenced", Path: "/"})
		http.Redirect(w, r, "/silenced?who="+r.FormValue("who")+"&for="+r.FormValue("for"), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /silenced", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><p data-testid="result">%s silenced for %s</p><a href="/" data-testid="back">back</a>`,
			html.EscapeString(r.FormValue("who")), html.EscapeString(r.FormValue("for")))
	})
}

func TestClickFillAndSubmit(t *testing.T) {
	url := serve(t, map[string]string{"/{$}": formPage}, silence)
	p := webtest.Shared(t).Open(t, url)

	p.Click(webtest.TestID("inc"))
	p.Click(webtest.TestID("inc"))
	if got := p.Text(webtest.TestID("n")); got != "2" {
		t.Errorf("after two clicks the counter is %q", got)
	}

	p.Fill(webtest.TestID("who"), "ada")
	p.Fill(webtest.TestID("for"), "4h")
	if got := p.Value(webtest.TestID("who")); got != "ada" {
		t.Errorf("the field holds %q after Fill", got)
	}
	p.Submit("form")
	if got := p.Text(webtest.TestID("result")); got != "ada silenced for 4h" {
		t.Errorf("result = %q", got)
	}
	if !strings.HasSuffix(p.URL(), "/silenced?who=ada&for=4h") || p.Status() != http.StatusOK {
		t.Errorf("at %s with status %d", p.URL(), p.Status())
	}
	var flash string
	for _, c := range p.Cookies() {
		if c.Name == "flash" {
			flash = c.Value
		}
	}
	if flash != "silenced" {
		t.Errorf("cookie flash = %q; cookies: %v", flash, p.Cookies())
	}

	p.ClickAndWait(webtest.TestID("back"))
	p.WaitFor(webtest.TestID("who"))
	if got := p.Value(webtest.TestID("who")); got != "nobody" {
		t.Errorf("back on the form, the field holds %q", got)
	}
}

func TestWaitTextSeesALiveUpdate(t *testing.T) {
	url := serve(t, map[string]string{"/{$}": `<!doctype html>
<p data-testid="util">GPU util: loading</p>
<script>setTimeout(() => {
  document.querySelector("[data-testid=util]").textContent = "GPU util: 87%";
  document.body.insertAdjacentHTML("beforeend", '<p data-testid="late">late</p>');
}, 300)</script>`})
	p := webtest.Shared(t).Open(t, url)
	p.WaitText(webtest.TestID("util"), "87%")
	p.WaitFor(webtest.TestID("late"))
	p.WaitCount(webtest.TestID("late"), 1)
}

const noJSPage = `<!doctype html><title>no js</title>
<noscript><p data-testid="nojs">Live refresh needs JavaScript; reload to update.</p></noscript>
<form method="post" action="/silence"><input name="who" data-testid="who"><button>Silence</button></form>
<script>document.body.insertAdjacentHTML("beforeend", '<p data-testid="scripted">live</p>')</script>`

func TestNoJS(t *testing.T) {
	url := serve(t, map[string]string{"/{$}": noJSPage}, silence)
	b := webtest.Shared(t)

	t.Run("disabled", func(t *testing.T) {
		p := b.OpenNoJS(t, url)
		if got := p.Text(webtest.TestID("nojs")); !strings.Contains(got, "needs JavaScript") {
			t.Errorf("noscript text = %q", got)
		}
		if n := p.Count(webtest.TestID("scripted")); n != 0 {
			t.Errorf("a script ran with JavaScript off: %d scripted elements", n)
		}
		p.Fill(webtest.TestID("who"), "bob")
		p.Submit("form")
		if got := p.Text(webtest.TestID("result")); got != "bob silenced for" {
			t.Errorf("without JavaScript the form gives %q", got)
		}
	})
	t.Run("enabled", func(t *testing.T) {
		p := b.Open(t, url)
		p.WaitFor(webtest.TestID("scripted"))
		if n := p.Count(webtest.TestID("nojs")); n != 0 {
			t.Errorf("<noscript> content is in the DOM with JavaScript on (%d)", n)
		}
	})
}

const themedPage = `<!doctype html><style>
body { background: rgb(255, 255, 255); color: rgb(20, 20, 20); }
@media (prefers-color-scheme: dark) { body { background: rgb(17, 17, 17); color: rgb(238, 238, 238); } }
</style><h1>Fleet</h1>`

func TestColorSchemeEmulation(t *testing.T) {
	url := serve(t, map[string]string{"/{$}": themedPage})
	b := webtest.Shared(t)
	color := func(p *webtest.Page) string {
		var c string
		p.Eval(`getComputedStyle(document.body).color`, &c)
		return c
	}

	dark := b.Open(t, url, webtest.ColorScheme("dark"))
	if got := color(dark); got != "rgb(238, 238, 238)" {
		t.Errorf("dark: color %s", got)
	}
	dark.Screenshot("dark")

	light := b.Open(t, url, webtest.ColorScheme("light"))
	if got := color(light); got != "rgb(20, 20, 20)" {
		t.Errorf("light: color %s", got)
	}
	light.SetColorScheme("dark")
	if got := color(light); got != "rgb(238, 238, 238)" {
		t.Errorf("after SetColorScheme(dark): color %s", got)
	}
}

func TestViewportAndCookies(t *testing.T) {
	url := serve(t, map[string]string{"/{$}": `<!doctype html><p>home</p>`}, func(mux *http.ServeMux) {
		mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
			c, err := r.Cookie("session")
			if err != nil {
				fmt.Fprint(w, `<p data-testid="who">anonymous</p>`)
				return
			}
			fmt.Fprintf(w, `<p data-testid="who">%s</p>`, html.EscapeString(c.Value))
		})
	})
	b := webtest.Shared(t)

	p := b.Open(t, url, webtest.Viewport(390, 844))
	var width int
	p.Eval(`innerWidth`, &width)
	if width != 390 {
		t.Errorf("innerWidth = %d, want 390", width)
	}
	p.SetCookie("session", "ada")
	p.Navigate(url + "/whoami")
	if got := p.Text(webtest.TestID("who")); got != "ada" {
		t.Errorf("with the cookie set, the server sees %q", got)
	}

	// Pages do not share cookies.
	if got := b.Open(t, url+"/whoami").Text(webtest.TestID("who")); got != "anonymous" {
		t.Errorf("another page sends the cookie: %q", got)
	}
}
