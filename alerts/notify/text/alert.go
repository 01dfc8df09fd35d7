package text

import (
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

// TimeLayout is how times are shown: absolute and in UTC, since readers sit
// in many time zones and a relative "5m ago" is stale once read.
const TimeLayout = "2006-01-02 15:04:05 UTC"

// Alert is what a person needs to know about one alert, read from its
// labels and annotations. Empty fields are unknown.
type Alert struct {
	Name        string // alertname
	Status      string // firing or resolved
	Severity    string
	Node        string
	GPU         string // index: "3"
	GPUModel    string // modelName
	GPUUUID     string // UUID
	Job         string // Slurm job ID
	User        string // Slurm user
	Value       string // the "value" annotation
	Summary     string
	Description string
	StartsAt    time.Time
	EndsAt      time.Time // zero while firing
	Link        string    // dashboard page
}

// NewAlert reads a of m.
func NewAlert(m *notify.Message, a notify.Alert) Alert {
	return Alert{
		Name:        a.Labels["alertname"],
		Status:      a.Status,
		Severity:    a.Labels["severity"],
		Node:        notify.NodeOf(a.Labels),
		GPU:         a.Labels["gpu"],
		GPUModel:    a.Labels["modelName"],
		GPUUUID:     first(a.Labels, "UUID", "uuid"),
		Job:         first(a.Labels, "slurm_job_id", "job_id", "jobid"),
		User:        first(a.Labels, "slurm_user", "user"),
		Value:       a.Annotations["value"],
		Summary:     strings.TrimSpace(a.Annotations["summary"]),
		Description: strings.TrimSpace(a.Annotations["description"]),
		StartsAt:    a.StartsAt,
		EndsAt:      a.EndsAt,
		Link:        m.Link(a),
	}.withAnnotations(a.Annotations)
}

// withAnnotations fills the job and user from annotations when the labels
// lack them (rules often put them there to keep the alert's identity).
func (v Alert) withAnnotations(ann map[string]string) Alert {
	if v.Job == "" {
		v.Job = first(ann, "slurm_job_id", "job_id", "jobid")
	}
	if v.User == "" {
		v.User = first(ann, "slurm_user", "user")
	}
	return v
}

func first(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(m[k]); v != "" {
			return v
		}
	}
	return ""
}

// Resolved reports whether the alert has resolved.
func (v Alert) Resolved() bool { return v.Status == notify.StatusResolved }

// Heading names the alert and where it is: "GPUOverheating on node-3,
// GPU 3", with " (resolved)" once it is.
func (v Alert) Heading() string {
	var b strings.Builder
	b.WriteString(v.Name)
	if v.Name == "" {
		b.WriteString("Alert")
	}
	if v.Node != "" {
		b.WriteString(" on " + v.Node)
	}
	if v.GPU != "" {
		b.WriteString(", GPU " + v.GPU)
	}
	if v.Resolved() {
		b.WriteString(" (resolved)")
	}
	return b.String()
}

// GPUText is the GPU as fully as known: "3 · NVIDIA H100 80GB HBM3 ·
// GPU-8f2c…".
func (v Alert) GPUText() string {
	var parts []string
	for _, p := range []string{v.GPU, v.GPUModel, v.GPUUUID} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " · ")
}

// Fact is one named value of an alert, as services show them in fields.
type Fact struct {
	Name  string
	Value string
}

// Facts are the alert's key facts in reading order, unknown ones left out.
func (v Alert) Facts() []Fact {
	facts := []Fact{
		{"Severity", v.Severity},
		{"Node", v.Node},
		{"GPU", v.GPUText()},
		{"Value", v.Value},
		{"Slurm job", v.Job},
		{"User", v.User},
		{"Since", formatTime(v.StartsAt)},
	}
	if v.Resolved() {
		facts = append(facts, Fact{"Resolved", formatTime(v.EndsAt)})
	}
	out := facts[:0]
	for _, f := range facts {
		if f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}

// Paragraphs are the alert's summary and description, the description left
// out when it only repeats the summary.
func (v Alert) Paragraphs() []string {
	var out []string
	if v.Summary != "" {
		out = append(out, v.Summary)
	}
	if v.Description != "" && v.Description != v.Summary {
		out = append(out, v.Description)
	}
	return out
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}
