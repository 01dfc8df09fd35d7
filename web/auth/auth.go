package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// CookieName is the session cookie.
const CookieName = "gpuwd_session"

// DefaultSessionTTL is how long a login lasts.
const DefaultSessionTTL = 12 * time.Hour

const schema = `
CREATE TABLE IF NOT EXISTS dashboard_sessions (
	id_hash    TEXT PRIMARY KEY, -- SHA-256 of the cookie's value: a stolen database opens no session
	username   TEXT NOT NULL,
	created_at INTEGER NOT NULL, -- Unix nanoseconds
	expires_at INTEGER NOT NULL,
	addr       TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS dashboard_sessions_expires_at ON dashboard_sessions (expires_at);
`

// Options configure Auth.
type Options struct {
	DB          *sql.DB
	Credentials Credentials
	// Public serves read-only pages without a login.
	Public bool
	// SecureCookies marks cookies Secure: set it when people reach the
	// dashboard over HTTPS.
	SecureCookies bool
	SessionTTL    time.Duration // 0: DefaultSessionTTL
	Logger        *slog.Logger  // nil: discard
	Now           func() time.Time
}

// Auth holds the credentials and the sessions.
type Auth struct {
	db     *sql.DB
	secure bool
	ttl    time.Duration
	log    *slog.Logger
	now    func() time.Time
	fails  *failLimiter

	mu     sync.RWMutex
	creds  Credentials
	public bool
}

// New creates the sessions table in o.DB when missing.
func New(ctx context.Context, o Options) (*Auth, error) {
	if _, err := o.DB.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("auth: create sessions table: %w", err)
	}
	a := &Auth{db: o.DB, secure: o.SecureCookies, ttl: o.SessionTTL, log: o.Logger, now: o.Now,
		creds: o.Credentials, public: o.Public}
	if a.ttl <= 0 {
		a.ttl = DefaultSessionTTL
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.fails = newFailLimiter(a.now)
	return a, nil
}

// Configure replaces the credentials and the public setting (a reload);
// sessions of admins no longer listed end at their next request.
func (a *Auth) Configure(c Credentials, public bool) {
	a.mu.Lock()
	a.creds, a.public = c, public
	a.mu.Unlock()
}

// Public tells whether read-only pages need no login.
func (a *Auth) Public() bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.public
}

func (a *Auth) credentials() Credentials {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.creds
}

// Login checks the credentials of a login form (an empty user means
// password is the admin token) and opens a session: the cookie to set.
func (a *Auth) Login(ctx context.Context, user, password, addr string) (string, *http.Cookie, error) {
	if wait := a.fails.wait(addr, limitKey(user)); wait > 0 {
		return "", nil, &TooManyAttemptsError{Wait: wait}
	}
	name, err := a.credentials().check(user, password)
	if err != nil {
		a.fails.failed(addr, limitKey(user))
		return "", nil, err
	}
	a.fails.succeeded(addr)
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	now := a.now()
	if _, err := a.db.ExecContext(ctx, `DELETE FROM dashboard_sessions WHERE expires_at < ?`, now.UnixNano()); err != nil {
		return "", nil, fmt.Errorf("auth: %w", err)
	}
	if _, err := a.db.ExecContext(ctx, `INSERT INTO dashboard_sessions (id_hash, username, created_at, expires_at, addr) VALUES (?, ?, ?, ?, ?)`,
		hashID(id), name, now.UnixNano(), now.Add(a.ttl).UnixNano(), addr); err != nil {
		return "", nil, fmt.Errorf("auth: saving the session: %w", err)
	}
	return name, a.cookie(id, now.Add(a.ttl)), nil
}

// Logout ends the session r carries; the cookie returned clears it.
func (a *Auth) Logout(ctx context.Context, r *http.Request) (*http.Cookie, error) {
	if c, err := r.Cookie(CookieName); err == nil {
		if _, err := a.db.ExecContext(ctx, `DELETE FROM dashboard_sessions WHERE id_hash = ?`, hashID(c.Value)); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	c := a.cookie("", time.Unix(0, 0))
	c.MaxAge = -1
	return c, nil
}

// Session returns the admin whose session r carries, "" when none (or
// expired, or no longer an admin).
func (a *Auth) Session(ctx context.Context, r *http.Request) (string, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return "", nil
	}
	var user string
	var expires int64
	err = a.db.QueryRowContext(ctx, `SELECT username, expires_at FROM dashboard_sessions WHERE id_hash = ?`, hashID(c.Value)).Scan(&user, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("auth: reading the session: %w", err)
	}
	if a.now().UnixNano() >= expires || !a.credentials().has(user) {
		return "", nil
	}
	return user, nil
}

// Authorize checks an API request's Authorization header: the admin it
// names, or an error when the header is missing or wrong.
func (a *Auth) Authorize(r *http.Request, addr string) (string, error) {
	key := TokenUser
	if name, _, ok := r.BasicAuth(); ok {
		key = limitKey(name)
	}
	if wait := a.fails.wait(addr, key); wait > 0 {
		return "", &TooManyAttemptsError{Wait: wait}
	}
	user, present, err := a.credentials().fromHeader(r)
	switch {
	case !present:
		return "", errors.New("this changes state: send Authorization: Bearer <admin token> (or Basic with an admin's name and password)")
	case err != nil:
		a.fails.failed(addr, key)
		return "", err
	}
	a.fails.succeeded(addr)
	return user, nil
}

// limitKey is the name failed logins are counted under: the admin token's
// (an empty name) is TokenUser; a long name is cut, so the limiter holds
// no more than that per name whatever is sent.
func limitKey(user string) string {
	if user == "" {
		return TokenUser
	}
	if len(user) > 64 {
		return user[:64]
	}
	return user
}

func (a *Auth) cookie(value string, expires time.Time) *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: value, Path: "/", Expires: expires,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteStrictMode}
}

func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}
