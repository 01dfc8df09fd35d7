package audit

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
)

func TestEntriesAreWrittenBeforeTheActionAndFinishedAfter(t *testing.T) {
	ctx, dir := context.Background(), t.TempDir()
	db, err := alertdb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	finish, err := l.Begin(ctx, Entry{User: "ana", Addr: "10.0.0.1", Action: "silence.create", Detail: `alertname="X"`})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := l.List(ctx, Filter{})
	if len(got) != 1 || got[0].Result != Started {
		t.Fatalf("before the action ends: %+v", got)
	}
	finish(nil)
	fail, _ := l.Begin(ctx, Entry{User: "bo", Action: "rule.delete", Target: "R"})
	fail(errors.New("no such dashboard rule"))
	l.Record(ctx, Entry{User: "ana", Action: "login", Result: OK})
	db.Close()

	// Another process opens the file later: everything is there.
	db, err = alertdb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, _ = Open(ctx, db)
	all, err := l.List(ctx, Filter{})
	if err != nil || len(all) != 3 || all[0].Action != "login" || all[1].Result != "no such dashboard rule" || all[2].Result != OK || all[2].Time.IsZero() {
		t.Fatalf("after reopening: %+v %v", all, err)
	}
	if ana, _ := l.List(ctx, Filter{User: "ana"}); len(ana) != 2 {
		t.Errorf("filter by user: %+v", ana)
	}
	if page, _ := l.List(ctx, Filter{Before: all[0].ID, Limit: 1}); len(page) != 1 || page[0].ID != all[1].ID {
		t.Errorf("the next page: %+v", page)
	}
}

// An entry that cannot be written (a full disk, a broken database) stops
// the action: nothing changes unrecorded.
func TestAnActionThatCannotBeRecordedIsRefused(t *testing.T) {
	ctx := context.Background()
	db, err := alertdb.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TABLE audit_log`); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	finish, err := l.Begin(ctx, Entry{User: "ana", Action: "silence.create"})
	if err == nil || finish != nil || !strings.Contains(err.Error(), "not run because it could not be recorded") {
		t.Errorf("Begin on a broken log: %v", err)
	}
}
