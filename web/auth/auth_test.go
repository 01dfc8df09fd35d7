package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newAuth(t *testing.T, dir string, c *clock, secure bool) *Auth {
	t.Helper()
	db, err := alertdb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The lowest cost keeps the test fast; HashPassword uses 12.
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), Options{DB: db, SecureCookies: secure, Now: c.now, SessionTTL: time.Hour,
		Credentials: Credentials{Admins: map[string][]byte{"alice": hash}, Tokens: []string{"0123456789abcdef-token"}}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func withCookie(c *http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(c)
	return r
}

func TestALoginIsACookieThatOutlivesARestartAndEndsAtLogout(t *testing.T) {
	ctx, dir, c := context.Background(), t.TempDir(), &clock{time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	a := newAuth(t, dir, c, true)
	name, cookie, err := a.Login(ctx, "alice", "correct horse", "10.0.0.1")
	if err != nil || name != "alice" {
		t.Fatalf("login: %q %v", name, err)
	}
	if cookie.Name != CookieName || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || len(cookie.Value) < 40 {
		t.Errorf("cookie %+v: want HttpOnly, Secure, SameSite=Strict, Path=/ and a long random value", cookie)
	}
	// The database keeps a hash: its content opens no session.
	var stored string
	if err := a.db.QueryRow(`SELECT id_hash FROM dashboard_sessions`).Scan(&stored); err != nil || strings.Contains(stored, cookie.Value) {
		t.Errorf("stored %q (%v): the cookie's value must not be stored", stored, err)
	}

	restarted := newAuth(t, dir, c, true)
	if user, err := restarted.Session(ctx, withCookie(cookie)); user != "alice" || err != nil {
		t.Fatalf("session after a restart: %q %v", user, err)
	}
	cleared, err := restarted.Logout(ctx, withCookie(cookie))
	if err != nil || cleared.MaxAge >= 0 || cleared.Value != "" {
		t.Fatalf("logout: %+v %v", cleared, err)
	}
	if user, _ := restarted.Session(ctx, withCookie(cookie)); user != "" {
		t.Errorf("the cookie still opens a session after logout: %q", user)
	}
}

func TestASessionEndsWhenItExpiresOrItsAdminIsRemoved(t *testing.T) {
	ctx, c := context.Background(), &clock{time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	a := newAuth(t, t.TempDir(), c, false)
	_, cookie, err := a.Login(ctx, "alice", "correct horse", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if cookie.Secure {
		t.Error("Secure cookie although the dashboard is served over plain HTTP")
	}
	c.t = c.t.Add(59 * time.Minute)
	if user, _ := a.Session(ctx, withCookie(cookie)); user != "alice" {
		t.Fatalf("session before it expires: %q", user)
	}
	c.t = c.t.Add(time.Minute)
	if user, _ := a.Session(ctx, withCookie(cookie)); user != "" {
		t.Errorf("session after its hour: %q", user)
	}

	_, cookie, _ = a.Login(ctx, "alice", "correct horse", "10.0.0.1")
	a.Configure(Credentials{Tokens: []string{"0123456789abcdef-token"}}, false)
	if user, _ := a.Session(ctx, withCookie(cookie)); user != "" {
		t.Errorf("alice was removed from the admins but her session goes on")
	}
	if _, _, err := a.Login(ctx, "alice", "correct horse", "10.0.0.1"); !errors.Is(err, ErrBadLogin) {
		t.Errorf("removed admin logs in: %v", err)
	}
}

func TestTheAdminTokenLogsInWithoutAName(t *testing.T) {
	ctx, c := context.Background(), &clock{time.Now()}
	a := newAuth(t, t.TempDir(), c, false)
	if name, _, err := a.Login(ctx, "", "0123456789abcdef-token", "10.0.0.1"); err != nil || name != TokenUser {
		t.Errorf("token login: %q %v", name, err)
	}
	if _, _, err := a.Login(ctx, "", "0123456789abcdef-toke", "10.0.0.1"); !errors.Is(err, ErrBadLogin) {
		t.Errorf("a wrong token: %v", err)
	}
	if _, _, err := a.Login(ctx, "", "", "10.0.0.1"); !errors.Is(err, ErrBadLogin) {
		t.Errorf("an empty token: %v", err)
	}
}

func TestFailedLoginsAreSlowedPerAddress(t *testing.T) {
	ctx, c := context.Background(), &clock{time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	a := newAuth(t, t.TempDir(), c, false)
	for i := range 5 {
		if _, _, err := a.Login(ctx, "alice", "guess", "10.0.0.66"); !errors.Is(err, ErrBadLogin) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	if _, _, err := a.Login(ctx, "alice", "correct horse", "10.0.0.66"); !errors.Is(err, ErrTooManyAttempts) {
		t.Errorf("sixth attempt in a row, right password: %v; want refused", err)
	}
	if _, _, err := a.Login(ctx, "alice", "correct horse", "10.0.0.1"); err != nil {
		t.Errorf("another address is refused too: %v", err)
	}
	c.t = c.t.Add(12 * time.Second)
	if _, _, err := a.Login(ctx, "alice", "correct horse", "10.0.0.66"); err != nil {
		t.Errorf("after the wait: %v", err)
	}
}

func TestFailedLoginsAreSlowedPerNameFromAnywhere(t *testing.T) {
	ctx, c := context.Background(), &clock{time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	a := newAuth(t, t.TempDir(), c, false)
	for i := range 10 {
		addr := fmt.Sprintf("10.0.1.%d", i)
		if _, _, err := a.Login(ctx, "alice", "guess", addr); !errors.Is(err, ErrBadLogin) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	_, _, err := a.Login(ctx, "alice", "correct horse", "10.0.2.1")
	if !errors.Is(err, ErrTooManyAttempts) || RetryAfter(err) != "6" {
		t.Fatalf("alice from a new address after 10 failures for her: %v, Retry-After %q; want refused for 6 s", err, RetryAfter(err))
	}
	if _, _, err := a.Login(ctx, "", "0123456789abcdef-token", "10.0.2.1"); err != nil {
		t.Errorf("the token is refused for alice's failures: %v", err)
	}
	c.t = c.t.Add(6 * time.Second)
	if _, _, err := a.Login(ctx, "alice", "correct horse", "10.0.2.1"); err != nil {
		t.Errorf("alice after the wait: %v", err)
	}
	// The API's Basic credentials count for the name, a Bearer for the token.
	for i := range 10 {
		r := httptest.NewRequest(http.MethodPost, "/api/v2/silences", nil)
		r.Header.Set("Authorization", "Bearer nope")
		if _, err := a.Authorize(r, fmt.Sprintf("10.0.3.%d", i)); !errors.Is(err, ErrBadLogin) {
			t.Fatalf("wrong Bearer %d: %v", i+1, err)
		}
	}
	if _, _, err := a.Login(ctx, "", "0123456789abcdef-token", "10.0.4.1"); !errors.Is(err, ErrTooManyAttempts) {
		t.Errorf("the token after 10 wrong Bearer tokens: %v", err)
	}
	if RetryAfter(ErrBadLogin) != "" {
		t.Error("Retry-After for an error that is no refusal")
	}
}

func TestAPICallsNeedTheTokenOrAnAdminsPassword(t *testing.T) {
	a := newAuth(t, t.TempDir(), &clock{time.Now()}, false)
	req := func(h string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/api/v2/silences", nil)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		return r
	}
	basic := req("")
	basic.SetBasicAuth("alice", "correct horse")
	wrongBasic := req("")
	wrongBasic.SetBasicAuth("alice", "nope")
	for _, tc := range []struct {
		name string
		r    *http.Request
		user string
		err  string
	}{
		{"bearer token", req("Bearer 0123456789abcdef-token"), TokenUser, ""},
		{"basic", basic, "alice", ""},
		{"nothing", req(""), "", "send Authorization: Bearer"},
		{"wrong token", req("Bearer nope"), "", ErrBadLogin.Error()},
		{"wrong password", wrongBasic, "", ErrBadLogin.Error()},
		{"other scheme", req("Digest x"), "", "unsupported Authorization scheme"},
	} {
		user, err := a.Authorize(tc.r, "10.0.0.2")
		if user != tc.user || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %q %v; want %q, error containing %q", tc.name, user, err, tc.user, tc.err)
		}
	}
}

func TestSafeNextStaysOnThisSite(t *testing.T) {
	for in, want := range map[string]string{"/alerts?rule=x": "/alerts?rule=x", "": "/", "//evil.example/": "/", "https://evil.example/": "/", "/\\evil": "/",
		"/\t/evil.example": "/", "/\n/evil.example": "/", "/\r/evil.example": "/", "/a\\b": "/", "http:evil.example": "/", " //evil.example": "/",
		"/%2F%2Fevil.example": "/%2F%2Fevil.example", "/nodes/gpu-1?state=idle": "/nodes/gpu-1?state=idle"} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
