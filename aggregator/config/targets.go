package config

import (
	"fmt"
	"net"
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
		if _, port, err := net.SplitHostPort(t); err != nil || port == "" {
			return fmt.Errorf("target %q is not a valid host:port", t)
		}
	}
	return nil
}

// CheckLabels rejects label names Prometheus would reject.
func CheckLabels(ls map[string]string) error {
	for name := range ls {
		if !model.LabelName(name).IsValid() || strings.HasPrefix(name, "__") {
			return fmt.Errorf("invalid label name %q", name)
		}
	}
	return nil
}
