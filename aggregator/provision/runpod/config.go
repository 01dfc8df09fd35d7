package runpod

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"
)

const (
	DefaultURL             = "https://api.runpod.io/graphql"
	DefaultMetricsPort     = 9400
	DefaultContainerDiskGB = 20
	// DefaultTimeout bounds each HTTP request, not a whole retried call.
	DefaultTimeout = 30 * time.Second
	// APIKeyEnv is read when neither APIKey nor APIKeyFile is set.
	APIKeyEnv = "RUNPOD_API_KEY"
)

// DefaultRetry: 5 attempts, waiting 500ms, 1s, 2s, 4s (with jitter).
var DefaultRetry = Retry{MaxAttempts: 5, Initial: 500 * time.Millisecond, Max: 10 * time.Second}

// Config configures a Provider; zero fields take the defaults.
type Config struct {
	URL        string // GraphQL endpoint, default DefaultURL
	APIKey     string // else APIKeyFile, else $RUNPOD_API_KEY
	APIKeyFile string
	// Image is the container image when the PodSpec names none.
	Image           string
	ContainerDiskGB int // default DefaultContainerDiskGB
	VolumeGB        int // mounted at /workspace; 0: none
	MetricsPort     int // the agent's port, exposed as http; default 9400
	Timeout         time.Duration
	HTTPClient      *http.Client
	Logger          *slog.Logger
	Retry           Retry
}

// Retry is the backoff for failed requests: the wait starts at Initial and
// doubles up to Max, unless the reply says Retry-After.
type Retry struct {
	MaxAttempts int
	Initial     time.Duration
	Max         time.Duration
}

func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.ContainerDiskGB == 0 {
		c.ContainerDiskGB = DefaultContainerDiskGB
	}
	if c.MetricsPort == 0 {
		c.MetricsPort = DefaultMetricsPort
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Retry.MaxAttempts < 1 {
		c.Retry.MaxAttempts = DefaultRetry.MaxAttempts
	}
	if c.Retry.Initial <= 0 {
		c.Retry.Initial = DefaultRetry.Initial
	}
	if c.Retry.Max < c.Retry.Initial {
		c.Retry.Max = max(DefaultRetry.Max, c.Retry.Initial)
	}
	return c
}

// apiKey finds the key: APIKey, else APIKeyFile, else $RUNPOD_API_KEY.
func (c Config) apiKey() (string, error) {
	if key := strings.TrimSpace(c.APIKey); key != "" {
		return key, nil
	}
	if c.APIKeyFile != "" {
		b, err := os.ReadFile(c.APIKeyFile)
		if err != nil {
			return "", fmt.Errorf("runpod: read API key file: %w", err)
		}
		key := strings.TrimSpace(string(b))
		if key == "" {
			return "", fmt.Errorf("runpod: API key file %s is empty", c.APIKeyFile)
		}
		return key, nil
	}
	if key := strings.TrimSpace(os.Getenv(APIKeyEnv)); key != "" {
		return key, nil
	}
	return "", errors.New("runpod: no API key: set APIKey, APIKeyFile or " + APIKeyEnv)
}

// String describes the config with the API key left out; Format and
// LogValue use it, so fmt and slog never print the key.
func (c Config) String() string {
	key := "none"
	switch {
	case c.APIKey != "":
		key = "set"
	case c.APIKeyFile != "":
		key = "file " + c.APIKeyFile
	}
	return fmt.Sprintf("runpod.Config{URL: %q, APIKey: %s, Image: %q, ContainerDiskGB: %d, VolumeGB: %d, MetricsPort: %d}",
		c.URL, key, c.Image, c.ContainerDiskGB, c.VolumeGB, c.MetricsPort)
}

// Format prints String for every verb, %#v included.
func (c Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue keeps the key out of slog output, JSON handlers included.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
