package dispatch

import (
	"context"
	"log/slog"
	"maps"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/prometheus/client_golang/prometheus"
)

// Alert is an alert as the rule engine sends it (Alertmanager's
// PostableAlert). Its labels are its identity.
type Alert struct {
	Labels      map[string]string
	Annotations map[string]string
	// StartsAt is when it started firing; zero means now (or EndsAt for
	// an alert that arrives resolved).
	StartsAt time.Time
	// EndsAt is when it resolved, or until when a firing alert holds
	// without news (Prometheus sends 4 evaluation intervals ahead); zero
	// means global.resolve_timeout from its arrival. An alert is resolved
	// once EndsAt has passed, whether it was sent so or not refreshed.
	EndsAt       time.Time
	GeneratorURL string
	// UpdatedAt is when the dispatcher last received it; Put sets it.
	UpdatedAt time.Time
}

// Resolved reports whether the alert is resolved at now.
func (a *Alert) Resolved(now time.Time) bool { return !a.EndsAt.IsZero() && !a.EndsAt.After(now) }

// Fingerprint is Alertmanager's fingerprint of the alert's labels.
func (a *Alert) Fingerprint() string { return notify.Fingerprint(a.Labels) }

func (a Alert) clone() *Alert {
	a.Labels = maps.Clone(a.Labels)
	a.Annotations = maps.Clone(a.Annotations)
	if a.Annotations == nil {
		a.Annotations = map[string]string{}
	}
	return &a
}

// Notification is one message for one group and receiver, and the record
// of what it told: the fingerprints of the firing and resolved alerts it
// holds, sorted. The dispatcher compares the next flush with the last
// notification to decide whether to send again (Alertmanager's
// notification log).
type Notification struct {
	Receiver  string
	GroupKey  string
	Firing    []string
	Resolved  []string
	Message   *notify.Message
	CreatedAt time.Time
}

// Log is where notifications go: the outbox, which delivers them and
// remembers the last one per receiver and group across restarts.
type Log interface {
	// Enqueue stores n durably for delivery and returns its ID.
	Enqueue(ctx context.Context, n Notification) (int64, error)
	// Last returns the last notification enqueued for receiver and
	// groupKey; false when there was none.
	Last(ctx context.Context, receiver, groupKey string) (Notification, bool, error)
}

// Silencer says which silences mute an alert (silence.Store).
type Silencer interface {
	// Mutes returns the IDs of the active silences matching labels.
	Mutes(labels map[string]string) []string
}

// Options configure a Dispatcher. Log is required.
type Options struct {
	Log      Log
	Silences Silencer // nil: no silences
	// ExternalURL is the notifications' externalURL: where people reach
	// gpuwd's web UI.
	ExternalURL string
	// Hold keeps every group from flushing until this long after New, so
	// that after a restart the alerts that inhibit others are back before
	// any group is notified. Set it to the longest rule evaluation
	// interval; zero holds nothing.
	Hold       time.Duration
	Now        func() time.Time // nil: time.Now
	Logger     *slog.Logger     // nil: discard
	Registerer prometheus.Registerer
}
