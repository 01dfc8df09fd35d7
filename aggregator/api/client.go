package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Client runs PromQL queries against gpuwd serve, or any Prometheus API.
type Client struct {
	BaseURL string       // e.g. http://gpuwd:9090; a path prefix is kept
	HTTP    *http.Client // nil: http.DefaultClient
	Token   string       // when set, sent as a bearer token
}

// Result is a query's answer: a model.Vector, model.Matrix, *model.Scalar
// or *model.String, and the annotations the engine added.
type Result struct {
	Value    model.Value
	Warnings []string
	Infos    []string
}

// Error is an error the API answered with.
type Error struct {
	StatusCode int    // the HTTP status
	Type       string // Prometheus' errorType: bad_data, execution, timeout, canceled, internal…
	Message    string
}

func (e *Error) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("server returned HTTP status %d: %s", e.StatusCode, e.Message)
	}
	return e.Type + ": " + e.Message
}

// Query evaluates expr at ts; a zero ts is the server's now.
func (c *Client) Query(ctx context.Context, expr string, ts time.Time) (*Result, error) {
	form := url.Values{"query": {expr}}
	if !ts.IsZero() {
		form.Set("time", formatTime(ts))
	}
	return c.do(ctx, "/api/v1/query", form)
}

// QueryRange evaluates expr at every step from start to end.
func (c *Client) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (*Result, error) {
	form := url.Values{
		"query": {expr},
		"start": {formatTime(start)},
		"end":   {formatTime(end)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	return c.do(ctx, "/api/v1/query_range", form)
}

// formatTime writes Unix seconds with the fraction, as client_golang does.
func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.Unix())+float64(t.Nanosecond())/1e9, 'f', -1, 64)
}

// do POSTs the form and decodes the envelope.
func (c *Client) do(ctx context.Context, path string, form url.Values) (*Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.BaseURL, "/")+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()

	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, &Error{StatusCode: resp.StatusCode, Message: strings.TrimSpace(string(body))}
	}
	var env struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Warnings  []string        `json:"warnings"`
		Infos     []string        `json:"infos"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return nil, fmt.Errorf("decode %s response (HTTP status %d): %w", path, resp.StatusCode, err)
	}
	if env.Status != "success" {
		if env.ErrorType == "" && env.Error == "" {
			env.Error = http.StatusText(resp.StatusCode)
		}
		return nil, &Error{StatusCode: resp.StatusCode, Type: env.ErrorType, Message: env.Error}
	}
	v, err := decodeValue(env.Data)
	if err != nil {
		return nil, fmt.Errorf("decode %s result: %w", path, err)
	}
	return &Result{Value: v, Warnings: env.Warnings, Infos: env.Infos}, nil
}

// decodeValue turns {"resultType":…,"result":…} into a model.Value.
func decodeValue(data []byte) (model.Value, error) {
	var d struct {
		Type   model.ValueType `json:"resultType"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	var v model.Value
	switch d.Type {
	case model.ValVector:
		v = &model.Vector{}
	case model.ValMatrix:
		v = &model.Matrix{}
	case model.ValScalar:
		v = &model.Scalar{}
	case model.ValString:
		v = &model.String{}
	default:
		return nil, fmt.Errorf("unknown result type %q", d.Type)
	}
	if err := json.Unmarshal(d.Result, v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case *model.Vector:
		return *x, nil
	case *model.Matrix:
		return *x, nil
	}
	return v, nil
}

// FormatValue prints v as promtool query does: a vector one sample per
// line, `up{instance="x", job="y"} => 1 @[1700000000.123]`; a matrix each
// series as `name{…} =>` followed by its `value @[time]` lines; a scalar as
// `scalar: 1 @[1700000000]`; a string as itself.
func FormatValue(w io.Writer, v model.Value) error {
	if v == nil {
		return nil
	}
	_, err := fmt.Fprintln(w, v)
	return err
}
