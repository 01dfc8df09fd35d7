package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
)

// CheckTarget accepts what Prometheus accepts in a targets list: host:port
// (or a bare host), without a scheme or a path.
func CheckTarget(t string) error {
	if t == "" {
		return fmt.Errorf("empty target")
	}
	if strings.Contains(t, "/") {
		return fmt.Errorf("target %q must be host:port, without a scheme or path", t)
	}
	if strings.Contains(t, ":") {
		if host, port, err := net.SplitHostPort(t); err != nil || host == "" || !validPort(port) {
			return fmt.Errorf("target %q is not a valid host:port", t)
		}
	}
	return nil
}

func validPort(p string) bool {
	n, err := strconv.ParseUint(p, 10, 16)
	return err == nil && n > 0
}

// CheckLabels rejects label names Prometheus would reject. Names are checked
// against the classic [a-zA-Z_][a-zA-Z0-9_]* rule, not the UTF-8 rule that
// model.LabelName.IsValid now follows: Prometheus 2, many remote-write
// receivers and HTTP SD consumers still refuse anything else.
func CheckLabels(ls map[string]string) error {
	for name := range ls {
		if !CheckLabelName(name) || strings.HasPrefix(name, "__") {
			return fmt.Errorf("invalid label name %q", name)
		}
	}
	return nil
}

// CheckLabelName reports whether name is a classic Prometheus label name.
func CheckLabelName(name string) bool {
	return model.LegacyValidation.IsValidLabelName(name)
}
