package silence

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client talks to the silences endpoints of Alertmanager's API v2, as
// gpuwd serves it (or a real Alertmanager): what `gpuwd silence` uses.
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a client for the server at baseURL
// (http://127.0.0.1:9090; a path prefix is kept). hc nil means
// http.DefaultClient.
func NewClient(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimSuffix(baseURL, "/"), hc: hc}
}

// APIError is an answer other than success.
type APIError struct {
	StatusCode int
	Message    string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("silence API: %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	return fmt.Sprintf("silence API: %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// Add creates the silence (or updates it when sil.ID is set; see
// Store.Set) and returns its ID.
func (c *Client) Add(ctx context.Context, sil Silence) (string, error) {
	body, err := EncodePostable(sil)
	if err != nil {
		return "", err
	}
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v2/silences", body, &out); err != nil {
		return "", err
	}
	return out.SilenceID, nil
}

// Query lists the silences that have all the filter matchers (strings in
// matcher syntax, such as alertname=GPUDown), in the server's order.
func (c *Client) Query(ctx context.Context, filter ...string) ([]Gettable, error) {
	q := url.Values{}
	for _, f := range filter {
		q.Add("filter", f)
	}
	path := "/api/v2/silences"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out []Gettable
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns one silence; a *APIError with StatusCode 404 when unknown.
func (c *Client) Get(ctx context.Context, id string) (Gettable, error) {
	var out Gettable
	err := c.do(ctx, http.MethodGet, "/api/v2/silence/"+url.PathEscape(id), nil, &out)
	return out, err
}

// Expire ends the silence now.
func (c *Client) Expire(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/v2/silence/"+url.PathEscape(id), nil, nil)
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("silence API: reading the answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return &APIError{StatusCode: resp.StatusCode, Message: errorMessage(b)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("silence API: decoding the answer: %w", err)
	}
	return nil
}

// errorMessage reads Alertmanager's error bodies: a JSON string, or
// {"code":…,"message":…} from its schema validation.
func errorMessage(b []byte) string {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	var v struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(b, &v) == nil && (v.Message != "" || v.Error != "") {
		return v.Message + v.Error
	}
	return strings.TrimSpace(string(b))
}
