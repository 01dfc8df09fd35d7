package runpodtest

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
)

// rootFieldPattern finds the operation's first field, the one served.
var rootFieldPattern = regexp.MustCompile(`\b(gpuTypes|podFindAndDeployOnDemand|podStop|podResume|podTerminate|myself|pod)\b`)

// inlineInput spots arguments written into the query instead of passed as
// variables, which the fake refuses so clients never splice strings.
var inlineInput = regexp.MustCompile(`input\s*:\s*\{`)

func rootField(query string) (string, error) {
	_, body, ok := strings.Cut(query, "{")
	if !ok {
		return "", errors.New("runpodtest: query has no selection set")
	}
	if inlineInput.MatchString(body) {
		return "", errors.New("runpodtest: pass inputs as variables, not inline")
	}
	m := rootFieldPattern.FindStringSubmatch(body)
	if m == nil {
		return "", errors.New("runpodtest: unsupported operation")
	}
	return m[1], nil
}

// podInput is what the pod operations take; the fake reads what it needs.
type podInput struct {
	PodID             string     `json:"podId"`
	GPUCount          int        `json:"gpuCount"`
	CloudType         string     `json:"cloudType"`
	GPUTypeID         string     `json:"gpuTypeId"`
	Name              string     `json:"name"`
	ImageName         string     `json:"imageName"`
	ContainerDiskInGb int        `json:"containerDiskInGb"`
	VolumeInGb        int        `json:"volumeInGb"`
	Ports             string     `json:"ports"`
	Env               []envInput `json:"env"`
}

type envInput struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// operate serves one operation and writes its reply.
func (s *Server) operate(w http.ResponseWriter, r *http.Request, field string, raw json.RawMessage) {
	var in podInput
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &in); err != nil {
			writeJSON(w, http.StatusOK, errorBody("invalid input: "+err.Error(), field))
			return
		}
	}
	s.mu.Lock()
	s.advance()
	var (
		data  any
		err   error
		after *reply
	)
	switch field {
	case "gpuTypes":
		data = s.gpuTypesJSON()
	case "myself":
		data = map[string]any{"pods": s.podsJSON()}
	case "pod":
		if p := s.pods[in.PodID]; p != nil {
			data = s.podJSON(p)
		}
	case "podFindAndDeployOnDemand":
		var p *pod
		if p, err = s.create(in); err == nil {
			data = s.podJSON(p)
			if len(s.afterCreate) > 0 {
				after = &s.afterCreate[0]
				s.afterCreate = s.afterCreate[1:]
			}
		}
	case "podStop":
		data, err = s.stop(in.PodID)
	case "podResume":
		data, err = s.resume(in.PodID, in.GPUCount)
	case "podTerminate":
		err = s.terminate(in.PodID)
	}
	s.mu.Unlock()
	switch {
	case after != nil:
		s.answer(w, r, *after, field)
	case err != nil:
		writeJSON(w, http.StatusOK, errorBody(err.Error(), field))
	default:
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{field: data}})
	}
}
