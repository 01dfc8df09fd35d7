package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// parseFileSD reads a Prometheus file_sd file: a JSON or YAML list of
// {"targets": [...], "labels": {...}} groups, chosen by the file's extension
// as Prometheus does. Unknown fields are errors, as in Prometheus.
//
// Group labels may set __scheme__ and __metrics_path__ for their targets and
// add __meta_* discovery labels; any other "__" label is refused rather than
// silently ignored.
func parseFileSD(sc config.ScrapeConfig, path string, b []byte) ([]target.Target, error) {
	groups, err := decodeGroups(path, b)
	if err != nil {
		return nil, err
	}
	var ts []target.Target
	for i, g := range groups {
		gts, err := groupTargets(sc, path, g)
		if err != nil {
			return nil, fmt.Errorf("group %d: %w", i, err)
		}
		ts = append(ts, gts...)
	}
	return ts, nil
}

func decodeGroups(path string, b []byte) ([]config.StaticConfig, error) {
	var groups []config.StaticConfig
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".json":
		if !json.Valid(b) { // Unmarshal's syntax errors are clearer than a Decoder's
			return nil, jsonError(b, json.Unmarshal(b, &groups))
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&groups); err != nil {
			return nil, jsonError(b, err)
		}
	case ".yml", ".yaml":
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&groups); err != nil && !errors.Is(err, io.EOF) { // empty file: no groups
			return nil, err
		}
	default:
		return nil, fmt.Errorf("extension %q is not .json, .yml or .yaml", ext)
	}
	return groups, nil
}

// jsonError adds the line number to a JSON syntax or type error.
func jsonError(b []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(b)) {
		return err
	}
	return fmt.Errorf("line %d: %w", 1+bytes.Count(b[:off], []byte("\n")), err)
}

// groupTargets turns one target group into targets of the job.
func groupTargets(sc config.ScrapeConfig, path string, g config.StaticConfig) ([]target.Target, error) {
	labels := map[string]string{}
	meta := map[string]string{}
	for name, value := range g.Labels {
		if !utf8.ValidString(value) {
			return nil, fmt.Errorf("label %q: value is not valid UTF-8", name)
		}
		switch {
		case name == model.SchemeLabel:
			if value != "http" && value != "https" {
				return nil, fmt.Errorf("label %s=%q is neither http nor https", name, value)
			}
			sc.Scheme = value
		case name == model.MetricsPathLabel:
			if !strings.HasPrefix(value, "/") {
				return nil, fmt.Errorf("label %s=%q does not start with /", name, value)
			}
			sc.MetricsPath = value
		case strings.HasPrefix(name, model.MetaLabelPrefix):
			meta[strings.TrimPrefix(name, model.MetaLabelPrefix)] = value
		case strings.HasPrefix(name, model.ReservedLabelPrefix):
			return nil, fmt.Errorf("label %q is not supported (only __scheme__, __metrics_path__ and __meta_*)", name)
		case !config.CheckLabelName(name):
			return nil, fmt.Errorf("invalid label name %q", name)
		default:
			labels[name] = value
		}
	}
	meta["filepath"] = path
	ts := make([]target.Target, 0, len(g.Targets))
	for _, addr := range g.Targets {
		if err := config.CheckTarget(addr); err != nil {
			return nil, err
		}
		t := newTarget(sc, addr, labels, SourceFileSD+path)
		t.Meta = meta // shared by the group's targets; never modified
		ts = append(ts, t)
	}
	return ts, nil
}
