package silence

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/matcher"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

func openDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := alertdb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newStore(t *testing.T) (*Store, *clock, string) {
	t.Helper()
	dir := t.TempDir()
	c := &clock{now: t0}
	s, err := Open(context.Background(), openDB(t, dir), Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s, c, dir
}

func eq(name, value string) Matcher { return Matcher{Name: name, Value: value, IsEqual: true} }

func sil(start, end time.Duration, ms ...Matcher) Silence {
	return Silence{Matchers: ms, StartsAt: t0.Add(start), EndsAt: t0.Add(end), CreatedBy: "ann", Comment: "maintenance"}
}

func TestCreateGetMutes(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	id, err := s.Set(ctx, sil(-time.Hour, time.Hour, eq("alertname", "GPUHot"), Matcher{Name: "instance", Value: "n[12]", IsRegex: true, IsEqual: true}))
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 36 || id[14] != '4' {
		t.Errorf("id %q is not a v4 UUID", id)
	}
	got, err := s.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	// A start in the past becomes now.
	if !got.StartsAt.Equal(t0) || !got.UpdatedAt.Equal(t0) || got.State(t0) != StateActive || got.CreatedBy != "ann" {
		t.Errorf("silence = %+v", got)
	}
	for _, tc := range []struct {
		labels map[string]string
		muted  bool
	}{
		{map[string]string{"alertname": "GPUHot", "instance": "n1"}, true},
		{map[string]string{"alertname": "GPUHot", "instance": "n3"}, false},
		{map[string]string{"alertname": "GPUHot"}, false},
	} {
		if ids := s.Mutes(tc.labels); (len(ids) == 1 && ids[0] == id) != tc.muted {
			t.Errorf("Mutes(%v) = %v", tc.labels, ids)
		}
	}
	c.set(t0.Add(2 * time.Hour))
	if ids := s.Mutes(map[string]string{"alertname": "GPUHot", "instance": "n1"}); len(ids) != 0 {
		t.Errorf("expired silence mutes: %v", ids)
	}
	if _, err := s.Get("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(nope) = %v", err)
	}
}

func TestValidation(t *testing.T) {
	s, _, _ := newStore(t)
	for _, tc := range []struct {
		sil  Silence
		want string
	}{
		{sil(0, time.Hour), "at least one matcher required"},
		{sil(0, time.Hour, eq("a b", "x")), `invalid label name "a b"`},
		{sil(0, time.Hour, Matcher{Name: "a", Value: "(", IsRegex: true, IsEqual: true}), "invalid regular expression"},
		{sil(0, time.Hour, eq("a", "")), "at least one matcher must not match the empty string"},
		{sil(0, time.Hour, Matcher{Name: "a", Value: ".*", IsRegex: true, IsEqual: true}), "must not match the empty string"},
		{sil(time.Hour, 0, eq("a", "b")), "end time must not be before start time"},
		{Silence{Matchers: []Matcher{eq("a", "b")}, StartsAt: t0}, "invalid zero end timestamp"},
	} {
		_, err := s.Set(context.Background(), tc.sil)
		var ie *InvalidError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Set(%+v) = %v, want an InvalidError with %q", tc.sil, err, tc.want)
		}
	}
	// Negative matchers alone are allowed.
	if _, err := s.Set(context.Background(), sil(0, time.Hour, Matcher{Name: "a", Value: "b"})); err != nil {
		t.Errorf("a!=b: %v", err)
	}
}

func TestUpdateRules(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	id, _ := s.Set(ctx, sil(0, time.Hour, eq("alertname", "A")))
	c.set(t0.Add(10 * time.Minute))

	// Active, same matchers, same start, later end: updated in place.
	up, _ := s.Get(id)
	up.EndsAt = t0.Add(2 * time.Hour)
	up.Comment = "longer"
	if got, err := s.Set(ctx, up); err != nil || got != id {
		t.Fatalf("extend: id %s, err %v; want the same id", got, err)
	}
	if g, _ := s.Get(id); !g.EndsAt.Equal(t0.Add(2*time.Hour)) || g.Comment != "longer" || !g.UpdatedAt.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("updated = %+v", g)
	}

	// Active, new matchers: the old one expires, a new one replaces it.
	up.Matchers = []Matcher{eq("alertname", "B")}
	newID, err := s.Set(ctx, up)
	if err != nil || newID == id {
		t.Fatalf("new matchers: id %s, err %v; want a new id", newID, err)
	}
	old, _ := s.Get(id)
	if !old.EndsAt.Equal(t0.Add(10*time.Minute)) || !old.UpdatedAt.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("old silence = %+v, want it ended now", old)
	}
	c.set(t0.Add(11 * time.Minute))
	if old.State(c.Now()) != StateExpired {
		t.Errorf("old silence is %s", old.State(c.Now()))
	}
	if n, _ := s.Get(newID); !n.StartsAt.Equal(t0.Add(10*time.Minute)) || n.Matchers[0].Value != "B" {
		t.Errorf("new silence = %+v", n)
	}

	// Pending: start moves freely (not into the past).
	pid, _ := s.Set(ctx, sil(time.Hour, 2*time.Hour, eq("alertname", "C")))
	p, _ := s.Get(pid)
	p.StartsAt = t0.Add(30 * time.Minute)
	if got, err := s.Set(ctx, p); err != nil || got != pid {
		t.Errorf("move pending start: %s %v", got, err)
	}
	// Expired: any change makes a new silence and leaves the old alone.
	expired, _ := s.Get(id)
	expired.EndsAt = t0.Add(5 * time.Hour)
	if got, err := s.Set(ctx, expired); err != nil || got == id {
		t.Errorf("update expired: %s %v", got, err)
	}
	if g, _ := s.Get(id); !g.EndsAt.Equal(t0.Add(10 * time.Minute)) {
		t.Errorf("expired silence changed: %+v", g)
	}
	// Unknown ID.
	unknown := sil(0, time.Hour, eq("a", "b"))
	unknown.ID = "00000000-0000-4000-8000-000000000000"
	if _, err := s.Set(ctx, unknown); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestExpire(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	active, _ := s.Set(ctx, sil(0, time.Hour, eq("a", "1")))
	pending, _ := s.Set(ctx, sil(time.Hour, 2*time.Hour, eq("a", "2")))
	c.set(t0.Add(time.Minute))
	for _, id := range []string{active, pending} {
		if err := s.Expire(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := s.Expire(ctx, id); err != nil {
			t.Errorf("expiring twice: %v", err)
		}
	}
	c.set(t0.Add(time.Minute + time.Nanosecond))
	a, _ := s.Get(active)
	p, _ := s.Get(pending)
	if a.State(c.Now()) != StateExpired || !a.EndsAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("active after expire: %+v", a)
	}
	if p.State(c.Now()) != StateExpired || !p.StartsAt.Equal(t0.Add(time.Minute)) || !p.EndsAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("pending after expire: %+v", p)
	}
	if err := s.Expire(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Expire(nope) = %v", err)
	}
}

func TestListOrderAndFilter(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	a1, _ := s.Set(ctx, sil(0, 3*time.Hour, eq("alertname", "A"), eq("instance", "n1")))
	a2, _ := s.Set(ctx, sil(0, 2*time.Hour, eq("alertname", "B")))
	p1, _ := s.Set(ctx, sil(2*time.Hour, 3*time.Hour, eq("alertname", "A")))
	p2, _ := s.Set(ctx, sil(time.Hour, 3*time.Hour, eq("alertname", "C")))
	e1, _ := s.Set(ctx, sil(0, time.Hour, eq("alertname", "D")))
	e2, _ := s.Set(ctx, sil(0, time.Hour, eq("alertname", "E")))
	c.set(t0.Add(time.Minute))
	s.Expire(ctx, e1)
	c.set(t0.Add(2 * time.Minute))
	s.Expire(ctx, e2)
	c.set(t0.Add(3 * time.Minute))

	ids := func(sils []Silence) []string {
		var out []string
		for _, s := range sils {
			out = append(out, s.ID)
		}
		return out
	}
	if got, want := ids(s.List(Query{})), []string{a2, a1, p2, p1, e2, e1}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	f, _ := matcher.Parse(`alertname=A`)
	if got, want := ids(s.List(Query{Filter: f})), []string{a1, p1}; !slices.Equal(got, want) {
		t.Errorf("filter: %v, want %v", got, want)
	}
	f, _ = matcher.Parse(`alertname=~A`) // type must match too
	if got := s.List(Query{Filter: f}); len(got) != 0 {
		t.Errorf("regex filter matched equality matchers: %v", ids(got))
	}
	if got, want := ids(s.List(Query{States: []State{StatePending}})), []string{p2, p1}; !slices.Equal(got, want) {
		t.Errorf("pending: %v, want %v", got, want)
	}
	if got, want := ids(s.List(Query{Matching: map[string]string{"alertname": "A", "instance": "n1"}})), []string{a1, p1}; !slices.Equal(got, want) {
		t.Errorf("matching: %v, want %v", got, want)
	}
	if n := s.Counts(); n[StateActive] != 2 || n[StatePending] != 2 || n[StateExpired] != 2 {
		t.Errorf("counts = %v", n)
	}
}

func TestPersistenceAndGC(t *testing.T) {
	s, c, dir := newStore(t)
	ctx := context.Background()
	keep, _ := s.Set(ctx, sil(0, time.Hour, eq("a", "1")))
	old, _ := s.Set(ctx, sil(0, time.Hour, eq("a", "2")))
	c.set(t0.Add(30 * time.Minute))
	s.Expire(ctx, old)

	// Reopen: the silences are back, times to the nanosecond.
	s2, err := Open(ctx, openDB(t, dir), Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.Get(keep)
	b, err := s2.Get(keep)
	if err != nil || !slices.Equal(a.Matchers, b.Matchers) || !a.StartsAt.Equal(b.StartsAt) || !a.EndsAt.Equal(b.EndsAt) || a.Comment != b.Comment {
		t.Fatalf("reloaded %+v, want %+v (%v)", b, a, err)
	}
	if ids := s2.Mutes(map[string]string{"a": "1"}); !slices.Equal(ids, []string{keep}) {
		t.Errorf("reloaded store mutes %v", ids)
	}

	// 5 days after it ended, the expired silence goes.
	c.set(t0.Add(30*time.Minute + DefaultRetention))
	if n, err := s2.GC(ctx); err != nil || n != 1 {
		t.Fatalf("GC = %d, %v", n, err)
	}
	if _, err := s2.Get(old); !errors.Is(err, ErrNotFound) {
		t.Errorf("collected silence still there: %v", err)
	}
	s3, err := Open(ctx, openDB(t, dir), Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if got := s3.List(Query{}); len(got) != 1 || got[0].ID != keep {
		t.Errorf("after GC and reopen: %+v", got)
	}
}
