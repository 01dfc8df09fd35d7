package dispatch

import (
	"testing"
	"time"
)

func TestNeedsUpdate(t *testing.T) {
	now := t0.Add(time.Hour)
	last := Notification{Firing: []string{"a", "b"}, Resolved: []string{"c"}, CreatedAt: now.Add(-time.Hour)}
	allResolved := Notification{Firing: []string{}, Resolved: []string{"a"}, CreatedAt: now.Add(-time.Minute)}
	for _, tc := range []struct {
		name             string
		last             Notification
		ok               bool
		firing, resolved []string
		repeat           time.Duration
		want             bool
	}{
		{"first, firing", Notification{}, false, []string{"a"}, nil, 4 * time.Hour, true},
		{"first, only resolved", Notification{}, false, nil, []string{"a"}, 4 * time.Hour, false},
		{"same firing", last, true, []string{"a", "b"}, nil, 4 * time.Hour, false},
		{"fewer firing, nothing newly resolved", last, true, []string{"a"}, []string{"c"}, 4 * time.Hour, false},
		{"new firing", last, true, []string{"a", "d"}, nil, 4 * time.Hour, true},
		{"newly resolved", last, true, []string{"a"}, []string{"b"}, 4 * time.Hour, true},
		{"all resolved", last, true, nil, []string{"a", "b"}, 4 * time.Hour, true},
		{"resolved, told already", allResolved, true, nil, []string{"a"}, 4 * time.Hour, false},
		{"fired and resolved unseen", allResolved, true, nil, []string{"x"}, 4 * time.Hour, false},
		{"fires again after all resolved", allResolved, true, []string{"a"}, nil, 4 * time.Hour, true},
		{"repeat not yet", last, true, []string{"a", "b"}, nil, time.Hour + time.Second, false},
		{"repeat exactly", last, true, []string{"a", "b"}, nil, time.Hour, true},
	} {
		if got := needsUpdate(tc.last, tc.ok, tc.firing, tc.resolved, tc.repeat, now); got != tc.want {
			t.Errorf("%s: needsUpdate = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMerge(t *testing.T) {
	h := newHarness(t, baseConfig)
	a := firing("GPUHot", 0) // ends at 10m
	h.put(a)
	// A later update with a later start keeps the first start.
	late := a
	late.StartsAt, late.EndsAt = t0.Add(2*m), t0.Add(12*m)
	h.putAt(2*m, late)
	// A resolution before the held end is taken.
	h.putAt(3*m, resolvedAt(a, 3*m))
	h.now = t0.Add(2 * m)
	st := h.d.Alerts()
	if len(st) != 1 || !st[0].StartsAt.Equal(t0) || !st[0].EndsAt.Equal(t0.Add(3*m)) {
		t.Fatalf("alerts = %+v", st)
	}
}
