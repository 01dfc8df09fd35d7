package aggregator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/internal/audit"
	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
)

// AdminTokenFile is the admin token gpuwd makes in its data directory when
// the configuration names no admin.
const AdminTokenFile = "admin-token"

// openAuth sets up logins and the audit log, both in alerts.db.
func (s *Server) openAuth(ctx context.Context, cfg *config.Config) error {
	var err error
	if s.audit, err = audit.Open(ctx, s.alerts.db); err != nil {
		return err
	}
	creds, err := s.credentials(cfg)
	if err != nil {
		return err
	}
	s.auth, err = auth.New(ctx, auth.Options{
		DB:            s.alerts.db,
		Credentials:   creds,
		Public:        s.publicDashboard(cfg),
		SecureCookies: s.secureCookies(),
		SessionTTL:    time.Duration(cfg.Dashboard.SessionTTL),
		Logger:        s.log.With("component", "auth"),
	})
	return err
}

func (s *Server) publicDashboard(cfg *config.Config) bool {
	return cfg.Dashboard.Public || s.opts.PublicDashboard
}

// secureCookies: cookies travel over HTTPS only when that is how people
// reach the dashboard (a browser drops Secure cookies over plain HTTP).
func (s *Server) secureCookies() bool { return strings.HasPrefix(s.opts.ExternalURL, "https://") }

// credentials are the configuration's admins and token; with neither, the
// token in the data directory, made at first start.
func (s *Server) credentials(cfg *config.Config) (auth.Credentials, error) {
	c := auth.Credentials{Admins: map[string][]byte{}}
	for _, a := range cfg.Dashboard.Admins {
		c.Admins[a.Username] = []byte(a.PasswordHash)
	}
	tok, err := cfg.Dashboard.LoadAdminToken()
	if err != nil {
		return c, fmt.Errorf("dashboard: %w", err)
	}
	if tok != "" {
		c.Tokens = []string{string(tok)}
	}
	if len(c.Admins) > 0 || len(c.Tokens) > 0 {
		return c, nil
	}
	path := filepath.Join(s.opts.DataDir, AdminTokenFile)
	t, made, err := ensureToken(path)
	if err != nil {
		return c, fmt.Errorf("dashboard: no admin is configured and the admin token could not be made: %w", err)
	}
	c.Tokens = []string{t}
	if made {
		s.log.Warn("no dashboard admin is configured: made an admin token; log in with it (no name) or send it as Authorization: Bearer", "file", path)
	} else {
		s.log.Info("no dashboard admin is configured: the admin token is in its file", "file", path)
	}
	return c, nil
}

// ensureToken reads the token at path, or makes one there (mode 0600).
func ensureToken(path string) (token string, made bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		t := strings.TrimSpace(string(b))
		if len(t) < config.MinAdminTokenLength {
			return "", false, fmt.Errorf("%s: the token is shorter than %d characters", path, config.MinAdminTokenLength)
		}
		return t, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", false, err
	}
	t := base64.RawURLEncoding.EncodeToString(raw[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, err
	}
	if _, err := f.WriteString(t + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return "", false, err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", false, err
	}
	return t, true, nil
}

// reconfigureAuth applies a reloaded configuration's admins.
func (s *Server) reconfigureAuth(cfg *config.Config) error {
	creds, err := s.credentials(cfg)
	if err != nil {
		return err
	}
	s.auth.Configure(creds, s.publicDashboard(cfg))
	return nil
}

// apiAction names the API calls that change state; they need an admin's
// Authorization header and land in the audit log. "" means open.
func apiAction(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
		return ""
	}
	p := r.URL.Path
	switch {
	case p == "/api/v2/silences" && r.Method == http.MethodPost:
		return "silence.create"
	case strings.HasPrefix(p, "/api/v2/silence/") && r.Method == http.MethodDelete:
		return "silence.expire"
	}
	return ""
}

// guardAPI makes the API's state-changing calls need an admin, and
// records them.
func (s *Server) guardAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action := apiAction(r)
		if action == "" {
			next.ServeHTTP(w, r)
			return
		}
		addr := peerAddr(r)
		user, err := s.auth.Authorize(r, addr)
		if err != nil {
			refuse(w, err)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBody))
		if err != nil {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "request body: "+err.Error())
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		finish, err := s.audit.Begin(r.Context(), audit.Entry{User: user, Addr: addr, Action: action,
			Target: strings.TrimPrefix(r.URL.Path, "/api/v2/silence/"), Detail: string(bytes.TrimSpace(body))})
		if err != nil {
			writeJSONError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		var result error
		if rec.status >= 300 {
			result = fmt.Errorf("HTTP %d", rec.status)
		}
		finish(result)
	})
}

// refuse answers an API call whose credentials Authorize refused: 401, or
// 429 with Retry-After after too many failures.
func refuse(w http.ResponseWriter, err error) {
	status := http.StatusUnauthorized
	if errors.Is(err, auth.ErrTooManyAttempts) {
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", auth.RetryAfter(err))
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="gpuwd"`)
	writeJSONError(w, status, err.Error())
}

// peerAddr is the direct peer's IP, as the dashboard takes it.
func peerAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// serveAudit is GET /api/v1/audit, for admins: ?user=, ?action=,
// ?before= (an id: the next page), ?limit= (≤ 1000), newest first.
func (s *Server) serveAudit(w http.ResponseWriter, r *http.Request) {
	if _, err := s.auth.Authorize(r, peerAddr(r)); err != nil {
		refuse(w, err)
		return
	}
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	entries, err := s.audit.List(r.Context(), audit.Filter{User: q.Get("user"), Action: q.Get("action"), Before: before, Limit: limit})
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if entries == nil {
		entries = []audit.Entry{}
	}
	writeJSONData(w, entries)
}
