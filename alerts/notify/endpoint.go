package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// DefaultTimeout bounds one request when a configuration sets no timeout.
const DefaultTimeout = 10 * time.Second

// WithTimeout bounds ctx by d, or by DefaultTimeout when d is zero.
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		d = DefaultTimeout
	}
	return context.WithTimeout(ctx, d)
}

// CheckTimeout rejects a negative timeout.
func CheckTimeout(d time.Duration) error {
	if d < 0 {
		return errors.New("timeout must not be negative")
	}
	return nil
}

// CheckEndpoint validates a URL given inline (field) or in a file
// (field_file): exactly one of them, and an inline URL must be http(s) with
// a host. Errors name the fields, never the URL: it holds the token.
func CheckEndpoint(field string, inline secret.Secret, file string) error {
	switch {
	case inline != "" && file != "":
		return fmt.Errorf("only one of %s and %s_file may be set", field, field)
	case inline == "" && file == "":
		return fmt.Errorf("one of %s and %s_file is required", field, field)
	case inline != "":
		if _, err := ParseURL(string(inline)); err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
	}
	return nil
}

// ReadEndpoint returns the URL, inline or read from its file now, so a
// rotated file is used from the next message on. A missing, empty or bad
// file is a permanent *Error that names the file but not its content.
func ReadEndpoint(field string, inline secret.Secret, file string) (*url.URL, error) {
	s, err := ReadSecret(field, inline, file)
	if err != nil {
		return nil, err
	}
	if s == "" {
		return nil, Permanent("%s is empty", sourceOf(field, file))
	}
	u, err := ParseURL(string(s))
	if err != nil {
		return nil, Permanent("%s: %v", sourceOf(field, file), err)
	}
	return u, nil
}

// ParseURL parses an http or https URL with a host. Its errors never
// repeat the URL.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("not an http or https URL")
	}
	if u.Host == "" {
		return nil, errors.New("URL has no host")
	}
	return u, nil
}

// CheckAuthorization validates an http_config authorization: credentials
// inline or in a file (not both, one required), a one-word type.
func CheckAuthorization(typ string, credentials secret.Secret, file string) error {
	if strings.ContainsAny(typ, " \t\r\n") {
		return errors.New("authorization: type must be one word")
	}
	switch {
	case credentials != "" && file != "":
		return errors.New("authorization: only one of credentials and credentials_file may be set")
	case credentials == "" && file == "":
		return errors.New("authorization: one of credentials and credentials_file is required")
	}
	return nil
}

// AuthorizationHeader is the value of "Authorization: <type> <credentials>"
// (type Bearer when empty), the credentials read from their file at each
// call. Errors are permanent and name the file, not the credentials.
func AuthorizationHeader(typ string, credentials secret.Secret, file string) (string, error) {
	s, err := ReadSecret("credentials", credentials, file)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", Permanent("authorization: %s is empty", sourceOf("credentials", file))
	}
	if strings.ContainsAny(string(s), "\r\n") {
		return "", Permanent("authorization: %s holds a line break", sourceOf("credentials", file))
	}
	if typ == "" {
		typ = "Bearer"
	}
	return typ + " " + string(s), nil
}

// ReadSecret is a credential inline or read from its file now (rotation);
// a file that cannot be read is a permanent *Error naming it.
func ReadSecret(field string, inline secret.Secret, file string) (secret.Secret, error) {
	s, err := secret.Read(inline, file)
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner // *fs.PathError: "open /path: no such file or directory"
		}
		return "", Permanent("%s_file: %v", field, err)
	}
	return s, nil
}

func sourceOf(field, file string) string {
	if file != "" {
		return fmt.Sprintf("%s_file %s", field, file)
	}
	return field
}

// OrDefaults returns client and logger, a client of its own and a logger
// that discards in place of nil ones.
func OrDefaults(client *http.Client, logger *slog.Logger) (*http.Client, *slog.Logger) {
	if client == nil {
		client = &http.Client{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return client, logger
}
