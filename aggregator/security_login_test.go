package aggregator_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
)

const loginPassword = "correct horse battery staple"

// adminsConfig lists the admins ana and bob, both with loginPassword.
func adminsConfig(t testing.TB) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(loginPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return "dashboard:\n  admins:\n    - {username: ana, password_hash: \"" + string(hash) + "\"}\n" +
		"    - {username: bob, password_hash: \"" + string(hash) + "\"}\n"
}

// loginFrom posts the login form from the loopback address from.
func loginFrom(t testing.TB, base, from, user, password string) (*http.Response, string) {
	t.Helper()
	c := client(from)
	return postForm(t, c, base+"/login", url.Values{"username": {user}, "password": {password}}, csrfOf(t, c, base))
}

// retryAfter checks that resp is a 429 whose Retry-After is 1…most
// seconds, and returns it.
func retryAfter(t *testing.T, what string, resp *http.Response, body string, most int) time.Duration {
	t.Helper()
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || err != nil || secs < 1 || secs > most {
		t.Fatalf("%s: %d, Retry-After %q, want 429 and 1…%d s: %s", what, resp.StatusCode, resp.Header.Get("Retry-After"), most, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == auth.CookieName && c.Value != "" {
			t.Errorf("%s: a refused login set a session cookie", what)
		}
	}
	return time.Duration(secs) * time.Second
}

// Failed logins are throttled by address (5, then one every 12 s) and by
// name (10 from anywhere, then one every 6 s), with 429 and Retry-After,
// even when the password is right; the API's credentials too. Another
// address, or another name, is not held up, and each wait ends.
func TestSecurityLoginIsRateLimited(t *testing.T) {
	t.Parallel()
	s, _ := startServerLogged(t, adminsConfig(t), nil)
	base := "http://" + s.Addr()
	want := func(what string, resp *http.Response, body string, code int) {
		t.Helper()
		if resp.StatusCode != code {
			t.Fatalf("%s: %d, want %d: %s", what, resp.StatusCode, code, body)
		}
	}

	// By address: 127.0.0.2 guesses names.
	for i := range 5 {
		resp, body := loginFrom(t, base, "127.0.0.2", "nobody", "guess")
		want("failed login "+strconv.Itoa(i+1)+" from 127.0.0.2", resp, body, http.StatusUnauthorized)
	}
	resp, body := loginFrom(t, base, "127.0.0.2", "ana", loginPassword)
	waitAddr := retryAfter(t, "ana's right password from 127.0.0.2 after 5 failures there", resp, body, 12)
	resp, body = loginFrom(t, base, "127.0.0.3", "ana", loginPassword)
	want("ana from 127.0.0.3", resp, body, http.StatusSeeOther)

	// By name: bob's password is guessed from five addresses, twice each.
	for i := range 10 {
		resp, body := loginFrom(t, base, "127.0.0."+strconv.Itoa(10+i/2), "bob", "guess")
		want("failed login "+strconv.Itoa(i+1)+" for bob", resp, body, http.StatusUnauthorized)
	}
	resp, body = loginFrom(t, base, "127.0.0.20", "bob", loginPassword)
	waitUser := retryAfter(t, "bob's right password from a new address after 10 failures for bob", resp, body, 6)
	resp, body = loginFrom(t, base, "127.0.0.20", "ana", loginPassword)
	want("ana from where bob is refused", resp, body, http.StatusSeeOther)

	// The API's Basic credentials count the same.
	api := client("127.0.0.30")
	for i := range 6 {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/audit", nil)
		req.SetBasicAuth("ana", "guess")
		resp, body := send(t, api, req)
		if i < 5 {
			want("a wrong Basic password", resp, body, http.StatusUnauthorized)
		} else {
			retryAfter(t, "the API after 5 wrong passwords", resp, body, 12)
		}
	}

	time.Sleep(max(waitAddr, waitUser))
	resp, body = loginFrom(t, base, "127.0.0.2", "ana", loginPassword)
	want("ana from 127.0.0.2 after its wait", resp, body, http.StatusSeeOther)
	resp, body = loginFrom(t, base, "127.0.0.20", "bob", loginPassword)
	want("bob after his wait", resp, body, http.StatusSeeOther)
}

// evilNexts are return addresses that would leave the site; raw ones are
// sent as written in the query (encoded forms), the rest encoded.
var evilNexts = []struct{ next, raw string }{
	{next: "https://evil.example/"},
	{next: "//evil.example"},
	{next: "/\\evil.example"},
	{next: "\\\\evil.example"},
	{next: "/\t/evil.example"},
	{next: "/\n/evil.example"},
	{next: "http:evil.example"},
	{next: "https:/evil.example"},
	{next: " //evil.example"},
	{raw: "%2F%2Fevil.example"},
	{raw: "%2F%5Cevil.example"},
	{raw: "/%2F/evil.example"},
	{raw: "%2F%09%2Fevil.example"},
	{raw: "%252F%252Fevil.example"},
	{raw: "https%3A%2F%2Fevil.example"},
}

// leaves tells whether a browser sent to loc from base would leave base's
// host: it drops tabs and newlines and reads backslashes as slashes.
func leaves(base, loc string) bool {
	loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(loc)
	b, _ := url.Parse(base)
	u, err := url.Parse(loc)
	return err != nil || b.ResolveReference(u).Host != b.Host
}

// The login's return address (next) only ever leads to a path on this
// site: after a login, for a logged-in admin visiting /login, and in the
// login form's hidden field; a local one is kept.
func TestSecurityLoginRedirectsOnlyToThisSite(t *testing.T) {
	t.Parallel()
	s, _ := startServerLogged(t, adminsConfig(t), nil)
	base := "http://" + s.Addr()
	admin := client("")
	resp, body := postForm(t, admin, base+"/login", url.Values{"username": {"ana"}, "password": {loginPassword}}, csrfOf(t, admin, base))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	query := func(n struct{ next, raw string }) string {
		if n.raw != "" {
			return "next=" + n.raw
		}
		return url.Values{"next": {n.next}}.Encode()
	}
	for _, n := range evilNexts {
		q := query(n)
		// A logged-in admin at /login goes on at once.
		resp, _ := send(t, admin, mustRequest(t, http.MethodGet, base+"/login?"+q, ""))
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || leaves(base, loc) {
			t.Errorf("GET /login?%s as an admin: %d to %q", q, resp.StatusCode, loc)
		}
		// The form keeps next for after the login…
		anon := client("")
		_, body := send(t, anon, mustRequest(t, http.MethodGet, base+"/login?"+q, ""))
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if next, ok := doc.Find(`input[name=next]`).Attr("value"); !ok || leaves(base, next) {
			t.Errorf("GET /login?%s: the form's next is %q", q, next)
		}
		// …and the login follows it.
		form := q + "&username=ana&password=" + url.QueryEscape(loginPassword) + "&_csrf=" + csrfOf(t, anon, base)
		resp, _ = send(t, anon, mustRequest(t, http.MethodPost, base+"/login", form))
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || leaves(base, loc) {
			t.Errorf("POST /login with %s: %d to %q", q, resp.StatusCode, loc)
		}
	}
	resp, _ = send(t, admin, mustRequest(t, http.MethodGet, base+"/login?next="+url.QueryEscape("/alerts?rule=GPUHot"), ""))
	if loc := resp.Header.Get("Location"); loc != "/alerts?rule=GPUHot" {
		t.Errorf("a local next is not kept: %q", loc)
	}
	resp, _ = send(t, client(""), mustRequest(t, http.MethodGet, base+"/alerts?rule=GPUHot", ""))
	if loc := resp.Header.Get("Location"); loc != "/login?next=%2Falerts%3Frule%3DGPUHot" {
		t.Errorf("a page without a login sends to %q", loc)
	}
}

func mustRequest(t testing.TB, method, u, form string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}
