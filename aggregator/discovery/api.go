package discovery

import (
	"encoding/json"
	"net/http"
)

// Handler serves discovery's HTTP endpoints:
//
//	POST /api/v1/agents/register    an agent registers, or heartbeats   token
//	POST /api/v1/agents/deregister  an agent leaves                     token
//	GET  /api/v1/agents             the registered agents               token
//	GET  /api/v1/sd                 every target, as Prometheus HTTP SD  open
//
// The token is registration.token; without one the agent endpoints answer
// 403. Replies have the shape of Prometheus' HTTP API.
func (m *Manager) Handler() http.Handler {
	mux := http.NewServeMux()
	m.Register(mux)
	return mux
}

// Mux is where Register adds the endpoints: an *http.ServeMux, or one
// that also keeps the list of routes.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Register adds Handler's endpoints to mux.
func (m *Manager) Register(mux Mux) {
	mux.Handle("POST /api/v1/agents/register", http.HandlerFunc(m.serveRegister))
	mux.Handle("POST /api/v1/agents/deregister", http.HandlerFunc(m.serveDeregister))
	mux.Handle("GET /api/v1/agents", http.HandlerFunc(m.serveAgents))
	mux.Handle("GET /api/v1/sd", http.HandlerFunc(m.serveSD))
}

// Error types of Prometheus' HTTP API used here.
const (
	errorUnauthorized = "unauthorized"
	errorBadData      = "bad_data"
	errorUnavailable  = "unavailable"
	errorForbidden    = "forbidden"
	errorTooLarge     = "bad_data" // Prometheus has no type of its own for 413
)

type apiReply struct {
	Status    string `json:"status"`
	Data      any    `json:"data,omitempty"`
	ErrorType string `json:"errorType,omitempty"`
	Error     string `json:"error,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeData(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, apiReply{Status: "success", Data: data})
}

func writeError(w http.ResponseWriter, code int, errorType, msg string) {
	writeJSON(w, code, apiReply{Status: "error", ErrorType: errorType, Error: msg})
}
