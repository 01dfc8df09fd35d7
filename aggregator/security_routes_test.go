package aggregator_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/runpod/runpodtest"
	"github.com/gpu-watchdog/gpu-watchdog/web/formtest"
)

// openRoutes are the routes that take a body or change state yet need no
// admin, and why. Every other route but GET and HEAD needs one.
var openRoutes = map[string]string{
	"POST /api/v1/query":             "read-only: Prometheus answers it on POST too",
	"POST /api/v1/query_range":       "read-only: Prometheus answers it on POST too",
	"POST /api/v1/query_exemplars":   "read-only: Prometheus answers it on POST too",
	"POST /api/v1/format_query":      "read-only: Prometheus answers it on POST too",
	"POST /api/v1/series":            "read-only: Prometheus answers it on POST too",
	"POST /api/v1/labels":            "read-only: Prometheus answers it on POST too",
	"POST /api/v1/agents/register":   "agents: the registration token instead",
	"POST /api/v1/agents/deregister": "agents: the registration token instead",
	"POST /-/reload":                 "--enable-lifecycle: documented as needing no login",
	"POST /login":                    "logging in: the form's CSRF token only",
	"POST /logout":                   "ending one's own session: the form's CSRF token only",
}

const routesRegistrationToken = "routes-registration-token"

// Every route of a server with every feature on (provisioning, lifecycle,
// registration, public pages) is enumerated from the server itself, so a route added
// later is checked too. Each one that is not GET or HEAD is refused
// without an admin: no credentials, a wrong token, a session without its
// CSRF token or with a wrong one, and any browser request from another
// site; an admin with the right credentials gets through (so the refusals
// were the guard's). The open ones are in openRoutes, and their own
// guards are checked. No GET changes anything.
func TestSecurityEveryStateChangingRouteIsGuarded(t *testing.T) {
	t.Parallel()
	fake := runpodtest.New(runpodtest.Options{})
	t.Cleanup(fake.Close)
	keyFile := filepath.Join(t.TempDir(), "runpod-key")
	os.WriteFile(keyFile, []byte(runpodtest.DefaultAPIKey), 0o600)
	s, _ := startServerLogged(t, `registration: {token: `+routesRegistrationToken+`}
provision:
  runpod: {url: "`+fake.URL+`", api_key_file: `+keyFile+`, image: "ghcr.io/gpu-watchdog/agent:routes"}
`, func(o *aggregator.Options) {
		// Public pages: a route guarded only by the login wall would pass
		// otherwise.
		o.EnableLifecycle, o.PublicDashboard = true, true
	})
	base := "http://" + s.Addr()
	admin := login(t, s)
	adminToken := readAdminToken(t, s)

	routes := s.Routes()
	if len(routes) < 40 {
		t.Fatalf("only %d routes: %v", len(routes), routes)
	}
	seen := map[string]bool{}
	var gets []aggregator.Route
	for _, r := range routes {
		key := r.Method + " " + r.Path
		switch {
		case strings.HasPrefix(r.Path, "/api/v1/admin/"):
			t.Errorf("%s: Prometheus' TSDB admin API is not served", key)
		case r.Method == "":
			t.Errorf("%s answers every method: name them, so this test knows which change state", r.Path)
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			gets = append(gets, r)
		default:
			seen[key] = true
			rc := routeCheck{t: t, base: base, route: r, admin: admin, adminToken: adminToken}
			t.Run(key, rc.run)
		}
	}
	for key := range openRoutes {
		if !seen[key] {
			t.Errorf("openRoutes lists %s, which is no route", key)
		}
	}

	// No GET changes state: fetching each one, as an admin, writes
	// nothing to the audit log (where every action goes first) and
	// launches nothing.
	before := auditCount(t, base, adminToken)
	for _, r := range gets {
		for _, c := range []struct {
			client *http.Client
			header string
		}{{admin.HTTP(), ""}, {client(""), "Bearer " + adminToken}} {
			req, _ := http.NewRequest(r.Method, base+concrete(r.Path), nil)
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			send(t, c.client, req)
		}
	}
	if after := auditCount(t, base, adminToken); after != before {
		t.Errorf("fetching the %d GET routes added %d audit entries", len(gets), after-before)
	}
	if n := fake.Creates(); n != 0 {
		t.Errorf("fetching the GET routes launched %d pods", n)
	}
}

// routeCheck checks one route that is not GET.
type routeCheck struct {
	t          *testing.T
	base       string
	route      aggregator.Route
	admin      *formtest.Client
	adminToken string
}

func (rc routeCheck) run(t *testing.T) {
	rc.t = t
	r := rc.route
	key := r.Method + " " + r.Path
	// From another site's page, even an admin's browser is refused.
	if code, _ := rc.try(rc.admin.HTTP(), map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, rc.admin.CSRF()); code != http.StatusForbidden {
		t.Errorf("a cross-site request from an admin's browser: %d, want 403", code)
	}
	why, open := openRoutes[key]
	switch {
	case strings.HasPrefix(why, "read-only"):
		return
	case strings.HasPrefix(why, "agents"):
		for name, h := range map[string]map[string]string{
			"no token":             nil,
			"a wrong token":        {"Authorization": "Bearer " + routesRegistrationToken + "x"},
			"the admin token":      {"Authorization": "Bearer " + rc.adminToken},
			"an admin's session":   {"X-CSRF-Token": rc.admin.CSRF()},
			"the token as a Basic": {"Authorization": "Basic " + routesRegistrationToken},
		} {
			c := client("")
			if name == "an admin's session" {
				c = rc.admin.HTTP()
			}
			if code, _ := rc.try(c, h, ""); code != http.StatusUnauthorized {
				t.Errorf("with %s: %d, want 401", name, code)
			}
		}
	case key == "POST /-/reload":
		if code, body := rc.try(client(""), nil, ""); code != http.StatusOK {
			t.Errorf("documented as open with --enable-lifecycle, but: %d %s", code, body)
		}
	case open: // login and logout: their forms' CSRF tokens
		rc.refusedWithoutCSRF()
	case r.Dashboard:
		if code, loc := rc.try(client(""), nil, ""); !refused(code, loc) {
			t.Errorf("without credentials: %d %s", code, loc)
		}
		anon := client("")
		if code, loc := rc.try(anon, nil, csrfOf(t, anon, rc.base)); !refused(code, loc) {
			t.Errorf("with a CSRF token but no session: %d %s", code, loc)
		}
		if code, loc := rc.try(client(""), map[string]string{"Authorization": "Bearer " + rc.adminToken}, ""); !refused(code, loc) {
			t.Errorf("with the admin token as a header (pages take sessions): %d %s", code, loc)
		}
		rc.refusedWithoutCSRF()
		if code, loc := rc.try(rc.admin.HTTP(), nil, rc.admin.CSRF()); refused(code, loc) {
			t.Errorf("an admin's session with its CSRF token is refused: %d %s; the refusals above prove nothing", code, loc)
		}
	default: // the API: Authorization headers, never cookies
		for name, c := range map[string]struct {
			client *http.Client
			header map[string]string
		}{
			"no credentials":                        {client(""), nil},
			"a wrong token":                         {client(""), map[string]string{"Authorization": "Bearer " + rc.adminToken + "x"}},
			"the registration token":                {client(""), map[string]string{"Authorization": "Bearer " + routesRegistrationToken}},
			"an admin's session and its CSRF token": {rc.admin.HTTP(), map[string]string{"X-CSRF-Token": rc.admin.CSRF()}},
		} {
			if code, body := rc.try(c.client, c.header, ""); code != http.StatusUnauthorized {
				t.Errorf("with %s: %d %s, want 401", name, code, body)
			}
		}
		if code, body := rc.try(client(""), map[string]string{"Authorization": "Bearer " + rc.adminToken}, ""); code == http.StatusUnauthorized || code == http.StatusForbidden {
			t.Errorf("the admin token is refused: %d %s; the refusals above prove nothing", code, body)
		}
	}
}

// refusedWithoutCSRF: an admin's session without the CSRF token, or with
// a wrong one, is refused with 403.
func (rc routeCheck) refusedWithoutCSRF() {
	for name, token := range map[string]string{"no CSRF token": "", "a wrong CSRF token": rc.admin.CSRF()[1:] + "x"} {
		if code, body := rc.try(rc.admin.HTTP(), nil, token); code != http.StatusForbidden {
			rc.t.Errorf("an admin's session with %s: %d %s, want 403", name, code, body)
		}
	}
}

// try sends the route's request, as a form carrying csrf when it is set,
// and returns the status and the Location (or the body when there is
// none).
func (rc routeCheck) try(c *http.Client, header map[string]string, csrf string) (int, string) {
	form := url.Values{}
	if csrf != "" {
		form.Set("_csrf", csrf)
	}
	req, _ := http.NewRequest(rc.route.Method, rc.base+concrete(rc.route.Path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, body := send(rc.t, c, req)
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, loc
	}
	return resp.StatusCode, body
}

// refused: 401, 403, or sent to log in.
func refused(code int, location string) bool {
	return code == http.StatusUnauthorized || code == http.StatusForbidden ||
		(code == http.StatusSeeOther && strings.HasPrefix(location, "/login"))
}

func readAdminToken(t testing.TB, s *aggregator.Server) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.DataDir(), aggregator.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func auditCount(t *testing.T, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/audit?limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, body := send(t, http.DefaultClient, req)
	var out struct{ Data []json.RawMessage }
	if err := json.Unmarshal([]byte(body), &out); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("GET /api/v1/audit: %d %v %s", resp.StatusCode, err, body)
	}
	return len(out.Data)
}
