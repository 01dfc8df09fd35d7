package notify

import (
	"fmt"
	"hash/fnv"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Alert states as Alertmanager writes them.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Alert is one alert of a notification, as in Alertmanager's template.Alert.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Message is one notification for one group of alerts: Alertmanager's
// webhook payload, version 4 (template.Data plus version, groupKey and
// truncatedAlerts), so the generic webhook sends it as it is.
type Message struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// NewMessage fills the fields derived from the alerts: status (firing if
// any alert fires), common labels and annotations. Alerts are ordered
// firing first, then by start time and labels, as people read them.
func NewMessage(receiver, groupKey string, groupLabels map[string]string, externalURL string, alerts []Alert) *Message {
	alerts = slices.Clone(alerts)
	slices.SortStableFunc(alerts, func(a, b Alert) int {
		if a.Status != b.Status {
			if a.Status == StatusFiring {
				return -1
			}
			return 1
		}
		if c := a.StartsAt.Compare(b.StartsAt); c != 0 {
			return c
		}
		return strings.Compare(a.Fingerprint, b.Fingerprint)
	})
	m := &Message{
		Version:           "4",
		GroupKey:          groupKey,
		Status:            StatusResolved,
		Receiver:          receiver,
		GroupLabels:       orEmpty(groupLabels),
		CommonLabels:      map[string]string{},
		CommonAnnotations: map[string]string{},
		ExternalURL:       externalURL,
		Alerts:            alerts,
	}
	for i, a := range alerts {
		if a.Status == StatusFiring {
			m.Status = StatusFiring
		}
		if i == 0 {
			for k, v := range a.Labels {
				m.CommonLabels[k] = v
			}
			for k, v := range a.Annotations {
				m.CommonAnnotations[k] = v
			}
			continue
		}
		keepCommon(m.CommonLabels, a.Labels)
		keepCommon(m.CommonAnnotations, a.Annotations)
	}
	return m
}

func keepCommon(common, other map[string]string) {
	for k, v := range common {
		if other[k] != v {
			delete(common, k)
		}
	}
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Firing and Resolved split the alerts by status.
func (m *Message) Firing() []Alert   { return m.byStatus(StatusFiring) }
func (m *Message) Resolved() []Alert { return m.byStatus(StatusResolved) }

func (m *Message) byStatus(status string) []Alert {
	var out []Alert
	for _, a := range m.Alerts {
		if a.Status == status {
			out = append(out, a)
		}
	}
	return out
}

// Title is the one-line summary chat services show first, as Alertmanager's
// default template has it: "[FIRING:2] GPUOverheating node-3".
func (m *Message) Title() string {
	var b strings.Builder
	b.WriteString("[" + strings.ToUpper(m.Status))
	if m.Status == StatusFiring {
		fmt.Fprintf(&b, ":%d", len(m.Firing()))
	}
	b.WriteString("]")
	keys := make([]string, 0, len(m.GroupLabels))
	for k := range m.GroupLabels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// The alert name first, then the other group labels' values.
	if name, ok := m.GroupLabels["alertname"]; ok {
		b.WriteString(" " + name)
	} else if name, ok := m.CommonLabels["alertname"]; ok {
		b.WriteString(" " + name)
	}
	for _, k := range keys {
		if k != "alertname" {
			b.WriteString(" " + m.GroupLabels[k])
		}
	}
	return b.String()
}

// Link is the dashboard page that shows the alert best: the node's page
// when the alert names a node, else the alerts page. Empty without an
// external URL.
func (m *Message) Link(a Alert) string {
	if m.ExternalURL == "" {
		return ""
	}
	base := strings.TrimSuffix(m.ExternalURL, "/")
	if node := NodeOf(a.Labels); node != "" {
		return base + "/nodes/" + url.PathEscape(node)
	}
	return base + "/alerts"
}

// NodeOf names the node an alert is about: its node label (Slurm and the
// agent set it), dcgm-exporter's Hostname or the agent's hostname, else its
// instance without the port.
func NodeOf(labels map[string]string) string {
	if n := labels["node"]; n != "" {
		return n
	}
	if n := labels["Hostname"]; n != "" { // dcgm-exporter's label
		return n
	}
	if n := labels["hostname"]; n != "" { // the agent's GPU label
		return n
	}
	inst := labels["instance"]
	if i := strings.LastIndexByte(inst, ':'); i > 0 && !strings.HasSuffix(inst, "]") {
		inst = inst[:i]
	}
	return inst
}

// Fingerprint is Alertmanager's fingerprint of a label set: FNV-1a 64 over
// the sorted names and values separated by 0xff, as 16 hex digits
// (prometheus/common model.LabelSet.Fingerprint).
func Fingerprint(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	slices.Sort(names)
	h := fnv.New64a()
	for _, k := range names {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0xff})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}
