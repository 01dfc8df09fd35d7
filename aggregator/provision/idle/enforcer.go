package idle

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
	"github.com/gpu-watchdog/gpu-watchdog/internal/audit"
)

// Alert is a firing GPUPodIdle alert, as the rule manager holds it.
type Alert struct {
	Labels  map[string]string
	FiredAt time.Time
	Value   float64 // the busiest GPU's 5-minute mean utilisation, %
}

// Pods are the provisioned pods and what can be done to them.
type Pods interface {
	Pods(ctx context.Context) ([]provision.ListedPod, map[string]error)
	Act(ctx context.Context, provider, id string, a provision.Action) error
}

// Auditor writes an action to the audit log before it runs.
type Auditor interface {
	Begin(ctx context.Context, e audit.Entry) (finish func(error), err error)
}

// Options are what an Enforcer acts with.
type Options struct {
	Policies []Policy
	// Alerts are the firing GPUPodIdle alerts.
	Alerts func() []Alert
	// Muted reports whether an alert is silenced: its pod is not acted on
	// while it is.
	Muted func(labels map[string]string) bool
	Pods  Pods
	Audit Auditor
	// Notify announces an action (or a dry run's) in chat.
	Notify func(ctx context.Context, r Record)
	DB     *sql.DB // alerts.db: what was done, kept across restarts
	Every  time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Results of a Record.
const (
	ResultDone   = "done"
	ResultDryRun = "dry-run"
	ResultFailed = "failed"
)

// A failed action is tried again after retryAfter, up to maxAttempts times
// per idle spell; then the pod is left to a person (chat has said why).
const (
	retryAfter  = 5 * time.Minute
	maxAttempts = 3
)

// Record is what a policy did to a pod for one idle spell (one firing of
// its alert).
type Record struct {
	Policy   string
	Provider string
	PodID    string
	PodName  string
	Instance string
	Action   Action
	DryRun   bool
	FiredAt  time.Time // when the idle alert fired: the notice
	At       time.Time // the last attempt
	Result   string    // ResultDone, ResultDryRun or ResultFailed
	Error    string
	Attempts int
	Value    float64 // the busiest GPU's utilisation, %
	// Labels are the policy's extra alert labels, for routing.
	Labels map[string]string
}

func (r Record) key() string {
	return r.Policy + "\x00" + r.Provider + "\x00" + r.PodID + "\x00" + strconv.FormatInt(r.FiredAt.UnixMilli(), 10)
}

// settled: nothing more is to be done for this spell.
func (r Record) settled(now time.Time) bool {
	return r.Result != ResultFailed || r.Attempts >= maxAttempts || now.Sub(r.At) < retryAfter
}

// Enforcer acts on the idle alerts that have fired for their grace period.
type Enforcer struct {
	opts     Options
	log      *slog.Logger
	policies map[string]Policy
	db       *recordDB

	mu     sync.Mutex
	done   map[string]Record // this process's and the DB's records, by key
	muted  map[string]bool   // spells already logged as silenced
	pruned time.Time
}

// New checks the policies and loads the records of earlier runs.
func New(ctx context.Context, o Options) (*Enforcer, error) {
	if err := Check(o.Policies); err != nil {
		return nil, err
	}
	if o.Alerts == nil || o.Pods == nil || o.Audit == nil || o.DB == nil {
		return nil, fmt.Errorf("idle: Alerts, Pods, Audit and DB are required")
	}
	if o.Every <= 0 {
		o.Every = 15 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Muted == nil {
		o.Muted = func(map[string]string) bool { return false }
	}
	if o.Notify == nil {
		o.Notify = func(context.Context, Record) {}
	}
	db, err := openRecordDB(ctx, o.DB)
	if err != nil {
		return nil, err
	}
	e := &Enforcer{opts: o, log: o.Logger, policies: map[string]Policy{}, db: db, done: map[string]Record{}, muted: map[string]bool{}}
	for _, p := range o.Policies {
		e.policies[p.Name] = p
	}
	recs, err := db.since(ctx, o.Now().Add(-keepRecords))
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		e.done[r.key()] = r
	}
	return e, nil
}

// Policies are the policies in force, as configured.
func (e *Enforcer) Policies() []Policy { return e.opts.Policies }

// Recent lists the records of the last week, newest first.
func (e *Enforcer) Recent(ctx context.Context) ([]Record, error) {
	return e.db.since(ctx, e.opts.Now().Add(-keepRecords))
}

// Run checks the alerts every Options.Every until ctx ends.
func (e *Enforcer) Run(ctx context.Context) {
	t := time.NewTicker(e.opts.Every)
	defer t.Stop()
	for {
		e.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check acts once on every alert that is due.
func (e *Enforcer) Check(ctx context.Context) {
	now := e.opts.Now()
	var pods []provision.ListedPod
	listed := false
	for _, a := range e.opts.Alerts() {
		p, ok := e.policies[a.Labels[labelPolicy]]
		if !ok || now.Before(a.FiredAt.Add(p.Grace)) {
			continue
		}
		r := Record{Policy: p.Name, Provider: a.Labels["provider"], PodID: a.Labels["pod_id"], PodName: a.Labels["pod_name"],
			Instance: a.Labels["instance"], Action: p.Action, DryRun: p.DryRun, FiredAt: a.FiredAt, Value: a.Value, Labels: p.Labels}
		e.mu.Lock()
		prev, seen := e.done[r.key()]
		e.mu.Unlock()
		if seen && prev.settled(now) {
			continue
		}
		if e.opts.Muted(a.Labels) {
			e.logMuted(r)
			continue
		}
		if !listed {
			pods, _ = e.opts.Pods.Pods(ctx)
			listed = true
		}
		if !running(pods, r.Provider, r.PodID) {
			continue // stopped already, or not listed yet: the alert will resolve or come back
		}
		r.Attempts = prev.Attempts + 1
		e.act(ctx, p, r)
	}
	e.prune(ctx, now)
}

func running(pods []provision.ListedPod, provider, id string) bool {
	for _, p := range pods {
		if p.Provider == provider && p.ID == id {
			return p.Status == provision.StatusRunning
		}
	}
	return false
}

// act does (or, dry, only records) the policy's action on r's pod, and
// announces it.
func (e *Enforcer) act(ctx context.Context, p Policy, r Record) {
	r.At = e.opts.Now()
	log := e.log.With("policy", p.Name, "provider", r.Provider, "pod", r.PodID, "action", p.Action)
	if p.DryRun {
		r.Result = ResultDryRun
		log.Info("idle pod: dry run, nothing done", "utilisation", r.Value)
	} else {
		finish, err := e.opts.Audit.Begin(ctx, audit.Entry{
			User: "idle-policy:" + p.Name, Action: "provision." + string(p.Action), Target: r.Provider + "/" + r.PodID,
			Detail: fmt.Sprintf("pod %s idle: busiest GPU %.1f%% < %s%% for %s, notice at %s", r.PodName, r.Value,
				strconv.FormatFloat(p.BelowPercent, 'g', -1, 64), p.For, r.FiredAt.UTC().Format(time.RFC3339)),
		})
		if err != nil {
			log.Error("idle pod left running: the audit log cannot be written", "err", err)
			return // tried again at the next check
		}
		err = e.opts.Pods.Act(ctx, r.Provider, r.PodID, provision.Action(p.Action))
		finish(err)
		if err != nil {
			r.Result, r.Error = ResultFailed, err.Error()
			log.Error("idle pod: action failed", "attempt", r.Attempts, "err", err)
		} else {
			r.Result = ResultDone
			log.Info("idle pod "+p.Action.Past(), "utilisation", r.Value)
		}
	}
	if err := e.db.save(ctx, r); err != nil {
		log.Error("idle policy: recording the action failed", "err", err)
	}
	e.mu.Lock()
	e.done[r.key()] = r
	e.mu.Unlock()
	e.opts.Notify(ctx, r)
}

func (e *Enforcer) logMuted(r Record) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.muted[r.key()] {
		e.muted[r.key()] = true
		e.log.Info("idle pod not acted on: its alert is silenced", "policy", r.Policy, "provider", r.Provider, "pod", r.PodID)
	}
}

// prune forgets records older than keepRecords, hourly.
func (e *Enforcer) prune(ctx context.Context, now time.Time) {
	if now.Sub(e.pruned) < time.Hour {
		return
	}
	e.pruned = now
	cut := now.Add(-keepRecords)
	if err := e.db.prune(ctx, cut); err != nil {
		e.log.Warn("idle policy: pruning old records failed", "err", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, r := range e.done {
		if r.At.Before(cut) {
			delete(e.done, k)
		}
	}
	clear(e.muted)
}
