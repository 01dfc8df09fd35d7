package userrules

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// openDB opens alerts.db in dir, closed when the test ends.
func openDB(t testing.TB, dir string) *sql.DB {
	t.Helper()
	db, err := alertdb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mustOpen is a Store on a fresh alerts.db whose clock stands at t0.
func mustOpen(t testing.TB, db *sql.DB) *Store {
	t.Helper()
	s, err := Open(context.Background(), db, Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustSave(t testing.TB, s *Store, r Rule, oldName, by string) Rule {
	t.Helper()
	saved, _, err := s.Save(context.Background(), r, oldName, by)
	if err != nil {
		t.Fatal(err)
	}
	return saved
}

func TestSaveGetListRenameDelete(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, openDB(t, t.TempDir()))
	created := mustSave(t, s, hot(), "", "alice")
	if created.Version == 0 || created.UpdatedBy != "alice" || !created.UpdatedAt.Equal(t0) {
		t.Fatalf("created %+v", created)
	}
	got, err := s.Get(ctx, "GPUHot")
	if err != nil || !reflect.DeepEqual(got, created) {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, created)
	}
	mustSave(t, s, Rule{Name: "AnotherOne", Expr: "up == 0"}, "", "bob")
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "AnotherOne" || list[1].Name != "GPUHot" {
		t.Fatalf("List = %+v, %v; want by name", list, err)
	}

	edit := created
	edit.Name, edit.Expr = "GPUVeryHot", "DCGM_FI_DEV_GPU_TEMP > 95"
	renamed := mustSave(t, s, edit, "GPUHot", "bob")
	if renamed.Version <= created.Version || renamed.UpdatedBy != "bob" {
		t.Fatalf("renamed %+v", renamed)
	}
	if _, err := s.Get(ctx, "GPUHot"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old name after rename: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "GPUVeryHot", renamed.Version, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "GPUVeryHot"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "GPUVeryHot", renamed.Version, "carol"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	if _, _, err := s.Save(ctx, edit, "GPUVeryHot", "carol"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("saving a deleted rule: %v, want ErrNotFound", err)
	}

	hist, err := s.History(ctx, "GPUVeryHot", 0)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, c := range hist {
		steps = append(steps, c.Action+" "+c.OldName+"→"+c.Name+" by "+c.By)
	}
	want := []string{"delete GPUVeryHot→GPUVeryHot by carol", "update GPUHot→GPUVeryHot by bob"}
	if !reflect.DeepEqual(steps, want) {
		t.Fatalf("history %q, want %q", steps, want)
	}
	if hist[1].Version != renamed.Version || hist[1].Rule.Expr != edit.Expr || hist[0].Rule.Expr != edit.Expr {
		t.Errorf("history rules: %+v", hist)
	}
	if all, _ := s.History(ctx, "", 0); len(all) != 4 {
		t.Errorf("%d changes in all, want 4", len(all))
	}
}

func TestSaveRefusesInvalidAndDuplicates(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, openDB(t, t.TempDir()))
	bad := hot()
	bad.Expr = "rate("
	_, _, err := s.Save(ctx, bad, "", "alice")
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Messages(FieldExpr)) != 1 {
		t.Fatalf("invalid rule: %v", err)
	}
	created := mustSave(t, s, hot(), "", "alice")
	if _, _, err := s.Save(ctx, hot(), "", "bob"); !errors.As(err, &ve) || ve.Messages(FieldName)[0] != `another dashboard rule is already named "GPUHot"` {
		t.Fatalf("creating a second GPUHot: %v", err)
	}
	other := mustSave(t, s, Rule{Name: "Other", Expr: "up == 0"}, "", "bob")
	other.Name = "GPUHot"
	if _, _, err := s.Save(ctx, other, "Other", "bob"); !errors.As(err, &ve) {
		t.Fatalf("renaming onto GPUHot: %v", err)
	}
	// Saving unchanged under its own name is no duplicate.
	if _, _, err := s.Save(ctx, created, "GPUHot", "alice"); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(ctx); len(list) != 2 {
		t.Fatalf("%d rules, want 2", len(list))
	}
	// Warnings come back with a successful save.
	warn := Rule{Name: "Warm", Expr: "up", Labels: map[string]string{"v": "{{ $value }}"}}
	if _, w, err := s.Save(ctx, warn, "", "alice"); err != nil || len(w) != 1 {
		t.Fatalf("save with a warning: %v, %v", w, err)
	}
}

func TestStaleVersionConflicts(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, openDB(t, t.TempDir()))
	v1 := mustSave(t, s, hot(), "", "alice")
	edit := v1
	edit.For = time.Minute
	v2 := mustSave(t, s, edit, "GPUHot", "alice")
	stale := v1
	stale.For = time.Hour
	if _, _, err := s.Save(ctx, stale, "GPUHot", "bob"); !errors.Is(err, ErrConflict) {
		t.Fatalf("save at a stale version: %v, want ErrConflict", err)
	}
	if err := s.Delete(ctx, "GPUHot", v1.Version, "bob"); !errors.Is(err, ErrConflict) {
		t.Fatalf("delete at a stale version: %v, want ErrConflict", err)
	}
	// Deleted and created again: the old versions stay stale.
	if err := s.Delete(ctx, "GPUHot", v2.Version, "alice"); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, hot(), "", "alice")
	for _, v := range []int64{v1.Version, v2.Version} {
		stale.Version = v
		if _, _, err := s.Save(ctx, stale, "GPUHot", "bob"); !errors.Is(err, ErrConflict) {
			t.Fatalf("save at version %d of the deleted rule: %v, want ErrConflict", v, err)
		}
	}
	if got, _ := s.Get(ctx, "GPUHot"); got.For != hot().For {
		t.Fatalf("a stale save changed the rule: for %s", got.For)
	}
}

// Saves of one version race, from one Store and from two (as two
// processes on one file would): exactly one wins.
func TestConcurrentSavesOneWins(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	stores := []*Store{mustOpen(t, db), mustOpen(t, db), mustOpen(t, openDB(t, dir))}
	base := mustSave(t, stores[0], hot(), "", "alice")
	const n = 12
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			r := base
			r.For = time.Duration(i+1) * time.Minute
			_, _, errs[i] = stores[i%len(stores)].Save(context.Background(), r, "GPUHot", "racer")
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("saves %d and %d both won", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, ErrConflict):
			t.Fatalf("save %d: %v, want ErrConflict", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no save won")
	}
	if got, _ := stores[2].Get(context.Background(), "GPUHot"); got.For != time.Duration(won+1)*time.Minute {
		t.Fatalf("stored for %s, want the winner's %s", got.For, time.Duration(won+1)*time.Minute)
	}
}

func TestRulesSurviveReopening(t *testing.T) {
	dir := t.TempDir()
	db, err := alertdb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, db)
	saved := []Rule{mustSave(t, s, hot(), "", "alice"), mustSave(t, s, Rule{Name: "NodeDown", Expr: "up == 0"}, "", "bob")}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, openDB(t, dir))
	got, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, saved) {
		t.Fatalf("after reopening:\n%+v\nwant\n%+v", got, saved)
	}
	if mustSave(t, s, Rule{Name: "Third", Expr: "vector(1)"}, "", "carol").Version <= saved[1].Version {
		t.Error("versions restarted after reopening")
	}
}
