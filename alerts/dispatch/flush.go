package dispatch

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

// flushJob is a group's alerts as they were when its timer fired.
type flushJob struct {
	g     *group
	items []item
	ok    bool
}

type item struct {
	fp       string
	alert    *Alert
	resolved bool
	muted    bool
}

// Tick flushes the groups whose timer is due at now, as Alertmanager's
// group timers fire: a group's first flush comes group_wait after it was
// created (at once for old alerts), the next ones every group_interval.
// Each flush drops the muted alerts, compares what is left with the last
// notification, enqueues a new one when needed, and forgets the resolved
// alerts once that succeeded. Run calls it on the wall clock; tests call it
// with the times they choose. Flushes run one after the other, in group
// key order.
func (d *Dispatcher) Tick(ctx context.Context, now time.Time) {
	d.tickMu.Lock()
	defer d.tickMu.Unlock()

	d.mu.Lock()
	for fp, t := range d.tombs {
		if now.Sub(t) > tombstoneTTL {
			delete(d.tombs, fp)
		}
	}
	if now.Before(d.holdUntil) {
		d.mu.Unlock()
		return
	}
	var jobs []*flushJob
	for _, g := range d.groups {
		if g.next.After(now) {
			continue
		}
		g.next, g.flushed = now.Add(g.route.GroupInterval), true
		job := &flushJob{g: g}
		for fp, a := range g.alerts {
			e := d.alerts[fp]
			d.refreshStatus(e, now)
			job.items = append(job.items, item{fp: fp, alert: a, resolved: a.Resolved(now),
				muted: len(e.silencedBy) > 0 || len(e.inhibitedBy) > 0})
		}
		jobs = append(jobs, job)
	}
	d.mu.Unlock()

	slices.SortFunc(jobs, func(a, b *flushJob) int {
		if c := strings.Compare(a.g.key, b.g.key); c != 0 {
			return c
		}
		return strings.Compare(a.g.id, b.g.id)
	})
	for _, job := range jobs {
		job.ok = d.notify(ctx, job, now)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	for _, job := range jobs {
		g := job.g
		if !job.ok {
			continue
		}
		// The resolved alerts were dealt with; forget them unless they
		// changed (fired again) during the flush.
		for _, it := range job.items {
			if !it.resolved || g.alerts[it.fp] != it.alert {
				continue
			}
			delete(g.alerts, it.fp)
			e := d.alerts[it.fp]
			if e.groups--; e.groups == 0 && e.alert == it.alert {
				delete(d.alerts, it.fp)
				d.inhib.remove(it.fp)
				d.tombs[it.fp] = it.alert.EndsAt
			}
		}
		if len(g.alerts) == 0 && d.groups[g.id] == g {
			delete(d.groups, g.id)
		}
	}
}

// notify runs a group's notification pipeline and reports whether it
// completed (nothing to send counts as completed).
func (d *Dispatcher) notify(ctx context.Context, job *flushJob, now time.Time) bool {
	g, r := job.g, job.g.route
	var (
		firing, resolved []string
		alerts           []notify.Alert
	)
	for _, it := range job.items {
		if it.muted {
			continue
		}
		a := notify.Alert{
			Status:       notify.StatusFiring,
			Labels:       it.alert.Labels,
			Annotations:  it.alert.Annotations,
			StartsAt:     it.alert.StartsAt,
			GeneratorURL: it.alert.GeneratorURL,
			Fingerprint:  it.fp,
		}
		if it.resolved {
			a.Status, a.EndsAt = notify.StatusResolved, it.alert.EndsAt
			resolved = append(resolved, it.fp)
		} else {
			firing = append(firing, it.fp)
		}
		alerts = append(alerts, a)
	}
	if len(alerts) == 0 {
		return true // all muted
	}
	slices.Sort(firing)
	slices.Sort(resolved)

	// Alertmanager gives a notification until the next flush.
	ctx, cancel := context.WithTimeout(ctx, r.GroupInterval)
	defer cancel()
	last, ok, err := d.log.Last(ctx, r.Receiver, g.key)
	if err != nil {
		d.logger.Error("dispatch: reading the last notification failed; will retry at the next group_interval",
			"receiver", r.Receiver, "group_key", g.key, "err", err)
		d.m.failed.WithLabelValues(r.Receiver).Inc()
		return false
	}
	if !needsUpdate(last, ok, firing, resolved, r.RepeatInterval, now) {
		return true
	}
	n := Notification{
		Receiver:  r.Receiver,
		GroupKey:  g.key,
		Firing:    orEmpty(firing),
		Resolved:  orEmpty(resolved),
		Message:   notify.NewMessage(r.Receiver, g.key, maps.Clone(g.labels), d.externalURL, alerts),
		CreatedAt: now,
	}
	if _, err := d.log.Enqueue(ctx, n); err != nil {
		d.logger.Error("dispatch: enqueueing a notification failed; will retry at the next group_interval",
			"receiver", r.Receiver, "group_key", g.key, "err", err)
		d.m.failed.WithLabelValues(r.Receiver).Inc()
		return false
	}
	d.m.requested.WithLabelValues(r.Receiver).Inc()
	return true
}

// needsUpdate is Alertmanager's DedupStage decision, with resolved alerts
// always counted (the outbox leaves them out for the integrations that do
// not send resolved notifications):
//   - never notified: only when something fires;
//   - an alert fires that the last notification did not list as firing;
//   - nothing fires any more but the last notification listed firing
//     alerts (all resolved);
//   - an alert resolved that the last notification did not list as
//     resolved;
//   - otherwise when repeat_interval has passed since the last one. Flushes
//     come every group_interval, so a repeat comes at the first flush at or
//     after repeat_interval.
func needsUpdate(last Notification, ok bool, firing, resolved []string, repeat time.Duration, now time.Time) bool {
	switch {
	case !ok:
		return len(firing) > 0
	case !subset(firing, last.Firing):
		return true
	case len(firing) == 0:
		return len(last.Firing) > 0
	case !subset(resolved, last.Resolved):
		return true
	}
	return !now.Before(last.CreatedAt.Add(repeat))
}

func subset(s, of []string) bool {
	set := make(map[string]bool, len(of))
	for _, v := range of {
		set[v] = true
	}
	for _, v := range s {
		if !set[v] {
			return false
		}
	}
	return true
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
