package discovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// Limits on what an agent may send.
const (
	maxBodyBytes  = 64 << 10
	maxURLBytes   = 2048
	maxFactBytes  = 256 // node, pod_id, version, each GPU model
	maxGPUs       = 4096
	maxGPUModels  = 64
	maxLabels     = 32
	maxLabelValue = 1024
)

// registerRequest is the body of POST /api/v1/agents/register. Unknown
// fields are ignored, so a newer agent can talk to an older aggregator.
type registerRequest struct {
	URL       string            `json:"url"`
	Node      string            `json:"node"`
	PodID     string            `json:"pod_id"`
	Version   string            `json:"version"`
	GPUs      int               `json:"gpus"`
	GPUModels []string          `json:"gpu_models"`
	Labels    map[string]string `json:"labels"`
}

// errTooLarge is a body over maxBodyBytes.
var errTooLarge = fmt.Errorf("request body is larger than %d bytes", maxBodyBytes)

// readBody decodes a JSON body of at most maxBodyBytes into v.
func readBody(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength > maxBodyBytes {
		return errTooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge
	}
	if err != nil {
		return fmt.Errorf("read request body: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("request body is not the expected JSON: %w", err)
	}
	return nil
}

// canonicalURL checks an advertised metrics URL and returns it in the form
// that identifies the agent (explicit port).
func canonicalURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New(`"url" is missing`)
	}
	if len(raw) > maxURLBytes {
		return "", fmt.Errorf(`"url" is longer than %d bytes`, maxURLBytes)
	}
	t, err := target.FromURL("", raw)
	if err != nil {
		return "", fmt.Errorf(`"url" %q: %w`, config.RedactURL(raw), unwrapURLError(err))
	}
	return t.URL(), nil
}

func unwrapURLError(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// agent validates the request and returns the record it describes (times
// not yet set).
func (req *registerRequest) agent() (Agent, error) {
	url, err := canonicalURL(req.URL)
	if err != nil {
		return Agent{}, err
	}
	for _, f := range []struct{ name, value string }{
		{"node", req.Node}, {"pod_id", req.PodID}, {"version", req.Version},
	} {
		if err := checkFact(f.name, f.value); err != nil {
			return Agent{}, err
		}
	}
	if req.GPUs < 0 || req.GPUs > maxGPUs {
		return Agent{}, fmt.Errorf(`"gpus" %d is not between 0 and %d`, req.GPUs, maxGPUs)
	}
	if len(req.GPUModels) > maxGPUModels {
		return Agent{}, fmt.Errorf(`"gpu_models" has %d entries, more than %d`, len(req.GPUModels), maxGPUModels)
	}
	for i, m := range req.GPUModels {
		if err := checkFact(fmt.Sprintf("gpu_models[%d]", i), m); err != nil {
			return Agent{}, err
		}
	}
	if err := checkAgentLabels(req.Labels); err != nil {
		return Agent{}, err
	}
	a := Agent{URL: url, Node: req.Node, PodID: req.PodID, Version: req.Version, GPUs: req.GPUs}
	if len(req.GPUModels) > 0 {
		a.GPUModels = slices.Clone(req.GPUModels)
	}
	if len(req.Labels) > 0 {
		a.Labels = req.Labels
	}
	return a, nil
}

func checkFact(name, v string) error {
	if len(v) > maxFactBytes {
		return fmt.Errorf("%q is longer than %d bytes", name, maxFactBytes)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%q is not valid UTF-8", name)
	}
	return nil
}

// checkAgentLabels allows what a static_configs label may be, except the
// job and instance labels, which the aggregator sets.
func checkAgentLabels(ls map[string]string) error {
	if len(ls) > maxLabels {
		return fmt.Errorf(`"labels" has %d labels, more than %d`, len(ls), maxLabels)
	}
	for name, value := range ls {
		switch {
		case !config.CheckLabelName(name):
			return fmt.Errorf("label name %q is not a valid Prometheus label name", name)
		case strings.HasPrefix(name, model.ReservedLabelPrefix):
			return fmt.Errorf("label name %q is reserved (starts with __)", name)
		case name == model.JobLabel || name == model.InstanceLabel:
			return fmt.Errorf("label %q is set by the aggregator", name)
		case len(value) > maxLabelValue:
			return fmt.Errorf("label %q: value is longer than %d bytes", name, maxLabelValue)
		case !utf8.ValidString(value):
			return fmt.Errorf("label %q: value is not valid UTF-8", name)
		}
	}
	return nil
}
