package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The aggregator's agents API, as gpuwd serve implements it:
//
//	POST /api/v1/agents/register    registration → 200 apiReply with the heartbeat
//	POST /api/v1/agents/deregister  {"url": …}   → 200
//
// Both take Authorization: Bearer <token>. Registering is idempotent, so the
// heartbeat is simply the registration sent again.

// registration is the body of POST /api/v1/agents/register.
type registration struct {
	URL       string            `json:"url"`
	Node      string            `json:"node"`
	PodID     string            `json:"pod_id"`
	Version   string            `json:"version"`
	GPUs      int               `json:"gpus"`
	GPUModels []string          `json:"gpu_models"`
	Labels    map[string]string `json:"labels"`
}

// apiReply is the aggregator's answer, in Prometheus' API shape.
type apiReply struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		HeartbeatSeconds float64 `json:"heartbeat_seconds"`
		Job              string  `json:"job"`
		Instance         string  `json:"instance"`
	} `json:"data"`
}

// deregister tells the aggregator the agent is going, if it may know it.
func (r *registrar) deregister() {
	r.mu.Lock()
	advertised, ever := r.status.URL, r.ever
	r.mu.Unlock()
	if !ever || advertised == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), deregisterWait)
	defer cancel()
	if _, _, err := r.post(ctx, "deregister", map[string]string{"url": advertised}); err != nil {
		r.logger.Warn("deregistering from the aggregator failed", "err", err)
		return
	}
	r.logger.Info("deregistered from the aggregator")
}

// post sends body to the aggregator's agents API and classifies the reply.
// Errors never carry the token or the URL's credentials.
func (r *registrar) post(ctx context.Context, op string, body any) (*apiReply, outcome, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, rejected, err
	}
	endpoint := r.aggregator.JoinPath("api/v1/agents", op)
	endpoint.RawQuery = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), bytes.NewReader(b))
	if err != nil {
		return nil, failing, redactError(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, failing, redactError(err)
	}
	defer resp.Body.Close()
	var reply apiReply
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	decodeErr := json.Unmarshal(raw, &reply)
	if resp.StatusCode/100 == 2 {
		if op == "register" && (decodeErr != nil || reply.Status != "success") {
			return nil, failing, fmt.Errorf("%s: %s but not a gpuwd aggregator reply (wrong --aggregator-url?)", op, resp.Status)
		}
		return &reply, registered, nil
	}
	err = fmt.Errorf("%s: %s", op, resp.Status)
	if decodeErr == nil && reply.Error != "" {
		// The aggregator's own words, minus the token should it echo it.
		err = fmt.Errorf("%s: %s: %s: %s", op, resp.Status, reply.ErrorType, strings.ReplaceAll(reply.Error, r.token, "<token>"))
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, refused, err
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return nil, rejected, err
	}
	return nil, failing, err
}
