package aggregator

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/alertdb"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/dispatch"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/alertmanager"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/receivers"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/outbox"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/route"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/silence"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/userrules"
)

// alerting is the aggregator's alerting half: rules evaluated over the
// store, routed as Alertmanager does, delivered through the outbox; state,
// silences and the outbox live in alerts.db.
type alerting struct {
	db    *sql.DB
	state *rules.SQLState
	rules *rules.Manager
	// userRules are the rules made in the dashboard, evaluated with the
	// rule files' groups.
	userRules *userrules.Store
	silences  *silence.Store
	outbox    *outbox.Outbox
	dispatch  *dispatch.Dispatcher
	forward   *alertmanager.Forwarder
	log       *slog.Logger
	// historyRetention is how long alert state changes are kept: as long
	// as the metrics (storage.retention).
	historyRetention time.Duration
	// externalLabels are added to the alerts gpuwd sends itself (idle
	// policies' actions), as the rules add them to theirs.
	externalLabels atomic.Pointer[map[string]string]
}

// noRouting is the configuration without alerting.config_file: alerts are
// grouped and can be silenced, but go to a receiver with no endpoints.
const noRouting = "route:\n  receiver: none\nreceivers:\n  - name: none\n"

func (s *Server) openAlerting(ctx context.Context, cfg *config.Config) (a *alerting, err error) {
	db, err := alertdb.Open(ctx, s.opts.DataDir)
	if err != nil {
		return nil, err
	}
	a = &alerting{db: db, log: s.log, historyRetention: time.Duration(cfg.Storage.Retention)}
	a.externalLabels.Store(&cfg.Global.ExternalLabels)
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	log := s.log
	if a.state, err = rules.NewSQLState(ctx, db); err != nil {
		return nil, err
	}
	if a.silences, err = silence.Open(ctx, db, silence.Options{Logger: log.With("component", "silences")}); err != nil {
		return nil, err
	}
	if err := a.silences.Register(s.reg); err != nil {
		return nil, err
	}
	if a.outbox, err = outbox.New(ctx, db, outbox.Options{Logger: log.With("component", "outbox"), Registerer: s.reg}); err != nil {
		return nil, err
	}
	routing, ints, err := loadRouting(cfg.Alerting.ConfigFile, log)
	if err != nil {
		return nil, err
	}
	a.outbox.SetReceivers(ints)
	if a.dispatch, err = dispatch.New(routing, dispatch.Options{
		Log:         outboxLog{a.outbox},
		Silences:    a.silences,
		ExternalURL: s.opts.ExternalURL,
		// After a restart, alerts that inhibit others come back with the
		// first evaluation: no group is notified before then.
		Hold:       time.Duration(cfg.Global.EvaluationInterval),
		Logger:     log.With("component", "dispatch"),
		Registerer: s.reg,
	}); err != nil {
		return nil, err
	}
	clients, err := alertmanagerClients(cfg.Alerting.Alertmanagers)
	if err != nil {
		return nil, err
	}
	if a.forward, err = alertmanager.NewForwarder(clients, alertmanager.Options{Logger: log.With("component", "alertmanager"), Registerer: s.reg}); err != nil {
		return nil, err
	}
	if a.userRules, err = userrules.Open(ctx, db, userrules.Options{Logger: log.With("component", "userrules")}); err != nil {
		return nil, err
	}
	a.rules, err = rules.NewManager(rules.Options{
		Extra:           a.userRules.Extra,
		Query:           rules.EngineQueryFunc(s.engine, s.store),
		Sink:            storeSink{s.store},
		Notify:          a.notify,
		State:           a.state,
		ExternalURL:     s.opts.ExternalURL,
		ExternalLabels:  cfg.Global.ExternalLabels,
		DefaultInterval: time.Duration(cfg.Global.EvaluationInterval),
		Logger:          log.With("component", "rules"),
		Metrics:         rules.NewMetrics(s.reg),
	})
	if err == nil {
		err = a.rules.Update(ctx, s.ruleFiles(cfg))
	}
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	if cfg.Alerting.ConfigFile == "" && len(cfg.RuleFiles) > 0 {
		log.Warn("alerts are evaluated but nobody is notified: set alerting.config_file to an Alertmanager configuration")
	}
	return a, nil
}

// loadRouting reads an Alertmanager configuration and builds its
// receivers' endpoints; an empty file name gives noRouting.
func loadRouting(file string, log *slog.Logger) (*route.Config, map[string][]notify.Integration, error) {
	var cfg *route.Config
	var err error
	if file == "" {
		cfg, err = route.Parse([]byte(noRouting))
	} else {
		cfg, err = route.Load(file)
	}
	if err != nil {
		return nil, nil, err
	}
	ints := map[string][]notify.Integration{}
	for _, r := range cfg.Receivers {
		list, err := r.Integrations(receivers.Options{Logger: log.With("component", "notify", "receiver", r.Name)})
		if err != nil {
			return nil, nil, fmt.Errorf("alerting config %s: %w", file, err)
		}
		ints[r.Name] = list
	}
	return cfg, ints, nil
}

func alertmanagerClients(cfgs []alertmanager.Config) ([]*alertmanager.Client, error) {
	var out []*alertmanager.Client
	for i, c := range cfgs {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("alerting.alertmanagers[%d]: %w", i, err)
		}
		cl, err := alertmanager.NewClient(c, nil)
		if err != nil {
			return nil, fmt.Errorf("alerting.alertmanagers[%d]: %w", i, err)
		}
		out = append(out, cl)
	}
	return out, nil
}

// notify hands the rule manager's due alerts to routing and to the
// Alertmanagers.
func (a *alerting) notify(_ context.Context, alerts []rules.Notification) {
	in := make([]dispatch.Alert, len(alerts))
	out := make([]alertmanager.PostableAlert, len(alerts))
	for i, n := range alerts {
		labels, annotations := n.Labels.Map(), n.Annotations.Map()
		in[i] = dispatch.Alert{Labels: labels, Annotations: annotations, StartsAt: n.StartsAt, EndsAt: n.EndsAt, GeneratorURL: n.GeneratorURL}
		out[i] = alertmanager.PostableAlert{Labels: labels, Annotations: annotations, StartsAt: n.StartsAt, EndsAt: n.EndsAt, GeneratorURL: n.GeneratorURL}
	}
	// Put keeps the valid alerts of a batch and names the invalid ones (a
	// label a rule template made up).
	if err := a.dispatch.Put(in...); err != nil {
		a.log.Warn("alerts refused by routing", "err", err)
	}
	a.forward.Send(out...)
}

// reload applies new rule files and a new Alertmanager configuration;
// on any error nothing changes.
func (a *alerting) reload(ctx context.Context, cfg *config.Config, ruleFiles []string) error {
	routing, ints, err := loadRouting(cfg.Alerting.ConfigFile, a.log)
	if err != nil {
		return err
	}
	clients, err := alertmanagerClients(cfg.Alerting.Alertmanagers)
	if err != nil {
		return err
	}
	if err := a.rules.Update(ctx, ruleFiles); err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	a.externalLabels.Store(&cfg.Global.ExternalLabels)
	a.outbox.SetReceivers(ints)
	a.dispatch.ApplyConfig(routing)
	a.forward.SetClients(clients)
	return nil
}

// run runs every part until ctx ends, then stops them in order: rules
// first (nothing new comes in), then routing, then delivery.
func (a *alerting) run(ctx context.Context) {
	rulesCtx, stopRules := context.WithCancel(context.Background())
	flowCtx, stopFlow := context.WithCancel(context.Background())
	var rulesWG, flowWG sync.WaitGroup
	rulesWG.Add(1)
	go func() { defer rulesWG.Done(); a.rules.Run(rulesCtx) }()
	for _, run := range []func(context.Context){a.dispatch.Run, a.forward.Run, a.silences.Run, a.pruneHistory, func(ctx context.Context) { _ = a.outbox.Run(ctx) }} {
		flowWG.Add(1)
		go func() { defer flowWG.Done(); run(flowCtx) }()
	}
	<-ctx.Done()
	stopRules()
	rulesWG.Wait()
	stopFlow()
	flowWG.Wait()
}

// pruneHistory drops alert state changes older than the retention, hourly.
func (a *alerting) pruneHistory(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if err := a.state.PruneHistory(ctx, time.Now().Add(-a.historyRetention)); err != nil && ctx.Err() == nil {
			a.log.Warn("pruning the alert history failed; retrying in an hour", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (a *alerting) close() error {
	a.forward.Stop()
	return a.db.Close()
}

// outboxLog is the dispatcher's notification log: the outbox.
type outboxLog struct{ o *outbox.Outbox }

func (l outboxLog) Enqueue(ctx context.Context, n dispatch.Notification) (int64, error) {
	return l.o.Enqueue(ctx, outbox.Notification{Receiver: n.Receiver, GroupKey: n.GroupKey, Firing: n.Firing, Resolved: n.Resolved, Message: n.Message, CreatedAt: n.CreatedAt})
}

func (l outboxLog) Last(ctx context.Context, receiver, groupKey string) (dispatch.Notification, bool, error) {
	n, ok, err := l.o.Last(ctx, receiver, groupKey)
	if err != nil || !ok {
		return dispatch.Notification{}, ok, err
	}
	return dispatch.Notification{Receiver: n.Receiver, GroupKey: n.GroupKey, Firing: n.Firing, Resolved: n.Resolved, Message: n.Message, CreatedAt: n.CreatedAt}, true, nil
}
