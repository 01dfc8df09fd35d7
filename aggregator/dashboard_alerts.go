package aggregator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/outbox"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/silence"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/userrules"
	alertspage "github.com/gpu-watchdog/gpu-watchdog/web/pages/alerts"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

// dashAlerting shows alerting's state to the dashboard's Alerts page.
type dashAlerting struct{ a *alerting }

func (d dashAlerting) Alerts() []alertspage.Alert {
	var out []alertspage.Alert
	for _, g := range d.a.rules.Groups() {
		for _, r := range g.Rules() {
			ar, ok := r.(*rules.AlertingRule)
			if !ok {
				continue
			}
			for _, al := range ar.ActiveAlerts() {
				out = append(out, alertspage.Alert{Name: ar.Name(), State: al.State.String(), Severity: al.Labels.Get("severity"),
					Labels: al.Labels.Map(), Summary: al.Annotations.Get("summary"), ActiveAt: al.ActiveAt, Value: al.Value})
			}
		}
	}
	slices.SortStableFunc(out, func(x, y alertspage.Alert) int {
		return cmp.Or(cmp.Compare(y.State, x.State), x.ActiveAt.Compare(y.ActiveAt), cmp.Compare(x.Name, y.Name))
	})
	return out
}

func (d dashAlerting) Rules() []alertspage.Rule {
	// Versions of the dashboard's rules, for their Delete buttons; without
	// them a delete is refused as a conflict, which says to reload.
	versions := map[string]int64{}
	if list, err := d.a.userRules.List(context.Background()); err == nil {
		for _, r := range list {
			versions[r.Name] = r.Version
		}
	}
	var out []alertspage.Rule
	for _, g := range d.a.rules.Groups() {
		for _, r := range g.Rules() {
			last, took, _ := rules.Health(r)
			pr := alertspage.Rule{Group: g.Name(), File: g.File(), Name: r.Name(), Query: r.Query(),
				LastEvaluation: last, EvaluationTime: took}
			pr.Health, pr.LastError = rules.HealthStatus(r)
			pr.Editable = g.File() == userrules.File
			pr.Version = versions[r.Name()]
			if ar, ok := r.(*rules.AlertingRule); ok {
				pr.Alerting, pr.For, pr.State = true, ar.For(), ar.State().String()
			}
			out = append(out, pr)
		}
	}
	return out
}

func (d dashAlerting) Silences() []alertspage.Silence {
	now := time.Now()
	sils := d.a.silences.List(silence.Query{})
	silence.Sort(sils, now)
	out := make([]alertspage.Silence, 0, len(sils))
	for _, s := range sils {
		ms := make([]string, len(s.Matchers))
		for i, m := range s.Matchers {
			ms[i] = m.String()
		}
		out = append(out, alertspage.Silence{ID: s.ID, Matchers: strings.Join(ms, " "), CreatedBy: s.CreatedBy,
			Comment: s.Comment, State: string(s.State(now)), StartsAt: s.StartsAt, EndsAt: s.EndsAt})
	}
	return out
}

func (d dashAlerting) Notifications(ctx context.Context, limit int) ([]alertspage.Notification, error) {
	entries, err := d.a.outbox.Log(ctx, outbox.Filter{Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]alertspage.Notification, 0, len(entries))
	for _, e := range entries {
		n := alertspage.Notification{ID: e.ID, Receiver: e.Receiver, CreatedAt: e.CreatedAt}
		if e.Message != nil {
			n.Title = e.Message.Title()
		}
		for _, dl := range e.Deliveries {
			n.Deliveries = append(n.Deliveries, alertspage.Delivery{Integration: dl.Integration, Status: dl.Status, LastError: dl.LastError, Attempts: dl.Attempts})
		}
		out = append(out, n)
	}
	return out, nil
}

// dashActions carries out what admins do on the Alerts page.
type dashActions struct{ s *Server }

func (d dashActions) AddSilence(ctx context.Context, matchers []string, dur time.Duration, author, comment string) (string, error) {
	ms, err := silence.ParseArgs(matchers)
	if err != nil {
		return "", ui.Input(err)
	}
	sil, err := silence.New(ms, time.Time{}, dur, author, comment)
	if err != nil {
		return "", ui.Input(err)
	}
	id, err := d.s.alerts.silences.Set(ctx, sil)
	if ie := (*silence.InvalidError)(nil); errors.As(err, &ie) {
		return "", ui.Input(err)
	}
	return id, err
}

func (d dashActions) ExpireSilence(ctx context.Context, id string) error {
	err := d.s.alerts.silences.Expire(ctx, id)
	if errors.Is(err, silence.ErrNotFound) {
		return ui.Input(fmt.Errorf("silence %s: %w", id, err))
	}
	return err
}

func (d dashActions) Reload(context.Context) error { return d.s.Reload() }
