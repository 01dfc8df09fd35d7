package aggregator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/amapi"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/outbox"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
)

// registerAlerting adds alerting's endpoints: Alertmanager's API v2 (so
// amtool and Grafana's Alertmanager data source work against gpuwd), the
// notification log and the alert history.
func (s *Server) registerAlerting(mux *routeMux) {
	amapi.New(amapi.Options{
		Dispatcher: s.alerts.dispatch,
		Silences:   s.alerts.silences,
		Version:    s.opts.Version,
		Logger:     s.log.With("component", "alertmanager_api"),
	}).Register(mux)
	mux.HandleFunc("GET /api/v1/notifications", s.serveNotifications)
	mux.HandleFunc("GET /api/v1/notifications/integrations", s.serveIntegrations)
	mux.HandleFunc("GET /api/v1/alerts/history", s.serveAlertHistory)
}

// serveNotifications is the notification log, newest first: ?receiver=,
// ?group_key=, ?status=pending|delivered|failed|expired|skipped|dropped|
// disabled-held, ?since= (RFC 3339 or Unix seconds), ?limit= (≤ 1000).
func (s *Server) serveNotifications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, err := parseTimeParam(q.Get("since"))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "since: "+err.Error())
		return
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	entries, err := s.alerts.outbox.Log(r.Context(), outbox.Filter{
		Receiver: q.Get("receiver"), GroupKey: q.Get("group_key"), Status: q.Get("status"), Since: since, Limit: limit,
	})
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	if entries == nil {
		entries = []outbox.Entry{}
	}
	writeJSONData(w, entries)
}

// serveIntegrations is each endpoint's health: disabled or not, pending
// deliveries, last success and failure.
func (s *Server) serveIntegrations(w http.ResponseWriter, r *http.Request) {
	list, err := s.alerts.outbox.Integrations(r.Context())
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if list == nil {
		list = []outbox.IntegrationHealth{}
	}
	writeJSONData(w, list)
}

// serveAlertHistory lists alert state changes, newest first: ?since=
// (default 24h ago), ?alertname=, ?limit= (default 1000).
func (s *Server) serveAlertHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, err := parseTimeParam(q.Get("since"))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "since: "+err.Error())
		return
	}
	if since.IsZero() {
		since = time.Now().Add(-24 * time.Hour)
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	h, err := s.alerts.state.History(r.Context(), since, q.Get("alertname"), limit)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if h == nil {
		h = []rules.HistoryEntry{}
	}
	writeJSONData(w, h)
}

func parseTimeParam(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		return time.UnixMilli(int64(secs * 1000)), nil
	}
	return time.Parse(time.RFC3339Nano, v)
}

// The Prometheus API's envelope, so the same clients read these.
func writeJSONData(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": data})
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "error", "errorType": "bad_data", "error": msg})
}
