package discovery

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
)

// registerReply is the data of a successful registration: when to come back
// and what the agent's series will be labelled with.
type registerReply struct {
	HeartbeatSeconds int    `json:"heartbeat_seconds"`
	Job              string `json:"job"`
	Instance         string `json:"instance"`
}

func (m *Manager) serveRegister(w http.ResponseWriter, r *http.Request) {
	m.countRequest("register", m.register(w, r))
}

func (m *Manager) register(w http.ResponseWriter, r *http.Request) int {
	s, code := m.authorize(w, r, "register")
	if code != 0 {
		return code
	}
	var req registerRequest
	if code := decode(w, r, &req); code != 0 {
		return code
	}
	a, err := req.agent()
	if err != nil {
		writeError(w, http.StatusBadRequest, errorBadData, err.Error())
		return http.StatusBadRequest
	}
	a.LastSeen = m.now().UTC()
	a.RemoteAddr = remoteHost(r)
	created, changed := m.reg.upsert(a)
	if created {
		m.log.Info("agent registered", "url", a.URL, "node", a.Node, "pod_id", a.PodID,
			"gpus", a.GPUs, "version", a.Version, "remote", a.RemoteAddr)
	} else if changed {
		m.log.Info("registered agent changed", "url", a.URL, "node", a.Node, "version", a.Version, "remote", a.RemoteAddr)
	}
	if changed {
		m.changed()
		if err := m.reg.save(r.Context(), a.URL, false); err != nil {
			m.log.Error("registered agent not saved; it is scraped, and the save is retried", "url", a.URL, "err", err)
			writeError(w, http.StatusServiceUnavailable, errorUnavailable,
				"registered, but the aggregator could not save the registration; it retries")
			return http.StatusServiceUnavailable
		}
	}
	t, _ := a.target(s.job) // the URL was checked by req.agent
	writeData(w, registerReply{
		HeartbeatSeconds: int(s.heartbeat / time.Second),
		Job:              s.job,
		Instance:         t.Instance(),
	})
	return http.StatusOK
}

func (m *Manager) serveDeregister(w http.ResponseWriter, r *http.Request) {
	m.countRequest("deregister", m.deregister(w, r))
}

func (m *Manager) deregister(w http.ResponseWriter, r *http.Request) int {
	if _, code := m.authorize(w, r, "deregister"); code != 0 {
		return code
	}
	var req struct {
		URL string `json:"url"`
	}
	if code := decode(w, r, &req); code != 0 {
		return code
	}
	url, err := canonicalURL(req.URL)
	if err != nil {
		writeError(w, http.StatusBadRequest, errorBadData, err.Error())
		return http.StatusBadRequest
	}
	removed := m.reg.remove(url)
	if removed {
		m.log.Info("agent deregistered", "url", url, "remote", remoteHost(r))
		m.changed()
		if err := m.reg.deleteStored(r.Context(), url); err != nil {
			m.log.Error("deregistered agent not deleted from the store; retried", "url", url, "err", err)
			writeError(w, http.StatusServiceUnavailable, errorUnavailable,
				"deregistered, but the aggregator could not update its store; it retries")
			return http.StatusServiceUnavailable
		}
	}
	writeData(w, map[string]bool{"removed": removed})
	return http.StatusOK
}

// agentView is an agent in the GET /api/v1/agents listing.
type agentView struct {
	Agent
	Job      string `json:"job"`
	Instance string `json:"instance"`
}

func (m *Manager) serveAgents(w http.ResponseWriter, r *http.Request) {
	s, code := m.authorize(w, r, "list")
	if code == 0 {
		as := m.reg.list()
		views := make([]agentView, 0, len(as))
		for _, a := range as {
			t, _ := a.target(s.job)
			views = append(views, agentView{Agent: a, Job: s.job, Instance: t.Instance()})
		}
		writeData(w, views)
		code = http.StatusOK
	}
	m.countRequest("list", code)
}

// authorize answers 403 when registration is disabled and 401 without the
// right token (logging who tried, never what they presented); it returns 0
// when the request may go on.
func (m *Manager) authorize(w http.ResponseWriter, r *http.Request, endpoint string) (regSettings, int) {
	s := m.reg.settingsNow()
	if !s.enabled {
		writeError(w, http.StatusForbidden, errorForbidden,
			"agent registration is disabled: the aggregator has no registration.token or registration.token_file")
		return s, http.StatusForbidden
	}
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	sum := sha256.Sum256([]byte(cred)) // equal-length inputs: the comparison leaks nothing, not even the length
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) != 1 {
		m.log.Warn("agent request refused: missing or wrong registration token",
			"endpoint", endpoint, "remote", r.RemoteAddr, "agent_url", claimedURL(w, r),
			"had_authorization", r.Header.Get("Authorization") != "")
		w.Header().Set("WWW-Authenticate", `Bearer realm="gpuwd"`)
		writeError(w, http.StatusUnauthorized, errorUnauthorized,
			"missing or wrong token: send Authorization: Bearer <registration token>")
		return s, http.StatusUnauthorized
	}
	return s, 0
}

// claimedURL is the url an unauthorized request names, for the log:
// redacted and cut short, since anyone can send anything.
func claimedURL(w http.ResponseWriter, r *http.Request) string {
	if r.Method != http.MethodPost {
		return ""
	}
	var body struct {
		URL string `json:"url"`
	}
	_ = readBody(w, r, &body)
	u := config.RedactURL(body.URL)
	if len(u) > 200 {
		u = u[:200] + "…"
	}
	return u
}

// decode reads the JSON body, answering 413 or 400 when it cannot.
func decode(w http.ResponseWriter, r *http.Request, v any) int {
	err := readBody(w, r, v)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, errorTooLarge, err.Error())
		return http.StatusRequestEntityTooLarge
	default:
		writeError(w, http.StatusBadRequest, errorBadData, err.Error())
		return http.StatusBadRequest
	}
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (m *Manager) countRequest(endpoint string, code int) {
	m.metrics.registrations.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
}
