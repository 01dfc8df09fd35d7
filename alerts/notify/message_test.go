package notify

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func TestFingerprintMatchesPrometheus(t *testing.T) {
	for _, labels := range []map[string]string{
		{},
		{"alertname": "GPUDown"},
		{"alertname": "GPUDown", "instance": "pod1:9400"},
		{"alertname": "GPUOverheating", "gpu": "3", "UUID": "GPU-5fa0b000-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "node": "gpu-node-00", "severity": "critical"},
		{"a": "", "b": "ünïcode ✓", "c": "with\xffbyte"},
	} {
		ls := model.LabelSet{}
		for k, v := range labels {
			ls[model.LabelName(k)] = model.LabelValue(v)
		}
		if got, want := Fingerprint(labels), ls.Fingerprint().String(); got != want {
			t.Errorf("Fingerprint(%v) = %s, want %s", labels, got, want)
		}
	}
}

func TestNewMessage(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	alert := func(status, gpu string, start time.Time) Alert {
		l := map[string]string{"alertname": "GPUOverheating", "node": "n1", "gpu": gpu}
		return Alert{Status: status, Labels: l, Annotations: map[string]string{"runbook": "r", "summary": gpu}, StartsAt: start, Fingerprint: Fingerprint(l)}
	}
	m := NewMessage("oncall", "k", map[string]string{"alertname": "GPUOverheating"}, "https://d/", []Alert{
		alert(StatusResolved, "0", t0),
		alert(StatusFiring, "2", t0.Add(time.Minute)),
		alert(StatusFiring, "1", t0),
	})
	if m.Status != StatusFiring || m.Version != "4" {
		t.Errorf("status %q version %q", m.Status, m.Version)
	}
	if got := m.Alerts[0].Labels["gpu"] + m.Alerts[1].Labels["gpu"] + m.Alerts[2].Labels["gpu"]; got != "120" {
		t.Errorf("order %s, want firing by start time, then resolved", got)
	}
	if len(m.CommonLabels) != 2 || m.CommonAnnotations["runbook"] != "r" || m.CommonAnnotations["summary"] != "" {
		t.Errorf("common labels %v annotations %v", m.CommonLabels, m.CommonAnnotations)
	}
	if got := m.Title(); got != "[FIRING:2] GPUOverheating" {
		t.Errorf("title %q", got)
	}
	if got := m.Link(m.Alerts[0]); got != "https://d/nodes/n1" {
		t.Errorf("link %q", got)
	}
}

func TestNodeOf(t *testing.T) {
	for _, tc := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"node": "n1", "instance": "x:1"}, "n1"},
		{map[string]string{"Hostname": "h1"}, "h1"},
		{map[string]string{"hostname": "h2", "instance": "x:1"}, "h2"},
		{map[string]string{"instance": "host:9400"}, "host"},
		{map[string]string{"instance": "[::1]"}, "[::1]"},
		{map[string]string{}, ""},
	} {
		if got := NodeOf(tc.labels); got != tc.want {
			t.Errorf("NodeOf(%v) = %q, want %q", tc.labels, got, tc.want)
		}
	}
}
