package aggregator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/discovery"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/remotewrite"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/scrape"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
	"github.com/gpu-watchdog/gpu-watchdog/internal/audit"
	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
)

// Server is a running aggregator: store, discovery, scraper and HTTP API.
type Server struct {
	opts   Options
	log    *slog.Logger
	reg    *prometheus.Registry
	ln     net.Listener
	http   *http.Server
	store  *store.Store
	disc   *discovery.Manager
	scrape *scrape.Manager
	engine *promql.Engine
	remote []*remotewrite.Queue
	alerts *alerting
	auth   *auth.Auth
	audit  *audit.Log
	prov   *provisioning // nil: no provider configured
	// idleRules is the idle policies' rule file, written at start; "" when
	// there are none.
	idleRules string

	mu  sync.Mutex
	cfg *config.Config // as loaded, before the built-in jobs

	mux  *routeMux  // the API's routes, for Routes
	dash *echo.Echo // the dashboard's
}

// New opens the store, listens and wires everything; Run serves.
func New(ctx context.Context, opts Options, logger *slog.Logger) (*Server, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := loadConfig(opts)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: logger, reg: prometheus.NewRegistry(), cfg: cfg}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	s.store, err = store.Open(ctx, opts.DataDir, store.Options{
		Retention:       time.Duration(cfg.Storage.Retention),
		DownsampleAfter: time.Duration(cfg.Storage.DownsampleAfter),
		DownsampleStep:  time.Duration(cfg.Storage.DownsampleStep),
		Logger:          logger.With("component", "store"),
		Registerer:      s.reg,
	})
	if err != nil {
		return nil, err
	}
	if s.ln, err = net.Listen("tcp", opts.Listen); err != nil {
		s.store.Close()
		return nil, fmt.Errorf("listen %s: %w", opts.Listen, err)
	}
	s.engine = promql.NewEngine(promql.EngineOpts{
		Logger:               logger.With("component", "query"),
		Reg:                  s.reg,
		MaxSamples:           opts.QueryMaxSamples,
		Timeout:              opts.QueryTimeout,
		LookbackDelta:        5 * time.Minute,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
	})
	var sink scrape.Storage = s.store
	for _, rw := range cfg.RemoteWrite {
		q, err := remotewrite.New(rw, remotewrite.Options{
			Dir:            filepath.Join(opts.DataDir, "remote-write"),
			Logger:         logger.With("component", "remote_write", "remote", rw.Name),
			Registerer:     s.reg,
			ExternalLabels: cfg.Global.ExternalLabels,
			UserAgent:      "gpuwd/" + opts.Version,
		})
		if err != nil {
			s.closeRemote()
			s.ln.Close()
			s.store.Close()
			return nil, fmt.Errorf("remote_write %s: %w", rw.Name, err)
		}
		s.remote = append(s.remote, q)
	}
	if len(s.remote) > 0 {
		sink = newForwarding(s.store, s.remote)
	}
	s.scrape = scrape.NewManager(sink, scrape.Options{
		Logger:     logger.With("component", "scrape"),
		Registerer: s.reg,
		Version:    opts.Version,
	})
	full, err := s.withBuiltinJobs(cfg)
	if err == nil {
		err = s.scrape.ApplyConfig(full.ScrapeConfigs)
	}
	if err == nil {
		s.disc, err = discovery.New(ctx, full, discovery.Options{
			Logger:     logger.With("component", "discovery"),
			Registerer: s.reg,
			KV:         s.store,
			OnChange:   s.scrape.Sync,
		})
	}
	if err != nil {
		s.closeRemote()
		s.ln.Close()
		s.store.Close()
		return nil, err
	}
	if s.opts.ExternalURL == "" {
		s.opts.ExternalURL = defaultExternalURL(s.ln.Addr())
	}
	s.idleRules, err = writeIdleRules(s.opts.DataDir, cfg)
	if err == nil {
		s.alerts, err = s.openAlerting(ctx, cfg)
	}
	if err != nil {
		s.closeRemote()
		s.ln.Close()
		s.store.Close()
		return nil, err
	}
	err = s.openAuth(ctx, cfg)
	if err == nil {
		s.prov, err = s.openProvisioning(ctx, cfg)
	}
	if err != nil {
		s.alerts.close()
		s.closeRemote()
		s.ln.Close()
		s.store.Close()
		return nil, err
	}
	// A request must arrive within ReadTimeout (bodies are at most
	// MaxRequestBody): a client trickling one cannot hold a connection.
	// Answers have no limit: a query has its own (--query-timeout).
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute}
	return s, nil
}

func loadConfig(opts Options) (*config.Config, error) {
	cfg := config.Default()
	if opts.ConfigFile != "" {
		var err error
		if cfg, err = config.Load(opts.ConfigFile); err != nil {
			return nil, err
		}
	}
	if opts.Retention > 0 {
		cfg.Storage.Retention = model.Duration(opts.Retention)
	}
	if opts.Token != "" {
		cfg.Registration.Token, cfg.Registration.TokenFile = config.Secret(opts.Token), ""
	}
	if opts.TokenFile != "" {
		cfg.Registration.Token, cfg.Registration.TokenFile = "", opts.TokenFile
	}
	if _, err := cfg.Registration.LoadToken(); err != nil {
		return nil, fmt.Errorf("registration token: %w", err)
	}
	return cfg, nil
}

// withBuiltinJobs adds the registered agents' job and the self-scrape job.
func (s *Server) withBuiltinJobs(cfg *config.Config) (*config.Config, error) {
	token, err := cfg.Registration.LoadToken()
	if err != nil {
		return nil, fmt.Errorf("registration token: %w", err)
	}
	self := ""
	if s.opts.SelfScrape {
		self = loopbackAddr(s.ln.Addr())
	}
	return cfg.WithBuiltinJobs(self, token), nil
}

// defaultExternalURL is http://<hostname>:<port>, how people on the
// network most likely reach this server.
func defaultExternalURL(a net.Addr) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	port := "8080"
	if tcp, ok := a.(*net.TCPAddr); ok {
		port = fmt.Sprint(tcp.Port)
	}
	return "http://" + net.JoinHostPort(host, port)
}

// loopbackAddr is how the aggregator reaches itself.
func loopbackAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
		if tcp.IP.To4() == nil && !tcp.IP.Equal(net.IPv6unspecified) {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// DataDir is where the history, alert state and admin token live.
func (s *Server) DataDir() string { return s.opts.DataDir }

// Store gives tests and the dashboard the history.
func (s *Server) Store() *store.Store { return s.store }

// Engine is the PromQL engine every query goes through.
func (s *Server) Engine() *promql.Engine { return s.engine }

// Run serves until ctx ends, then shuts down: scrapes stop (their series
// marked stale), the API drains, the store closes.
func (s *Server) Run(ctx context.Context) error {
	discCtx, stopDisc := context.WithCancel(context.Background())
	discDone := make(chan error, 1)
	go func() { discDone <- s.disc.Run(discCtx) }()
	remoteCtx, stopRemote := context.WithCancel(context.Background())
	var remoteWG sync.WaitGroup
	for _, q := range s.remote {
		remoteWG.Add(1)
		go func() { defer remoteWG.Done(); q.Run(remoteCtx) }()
	}
	alertsCtx, stopAlerts := context.WithCancel(context.Background())
	alertsDone := make(chan struct{})
	go func() { s.alerts.run(alertsCtx); close(alertsDone) }()
	provCtx, stopProv := context.WithCancel(context.Background())
	provDone := make(chan struct{})
	go func() {
		if s.prov != nil {
			s.prov.run(provCtx)
		}
		close(provDone)
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.http.Serve(s.ln) }()
	if s.prov != nil && s.prov.bridgeLn != nil {
		go func() { _ = s.http.Serve(s.prov.bridgeLn) }() // closed by Shutdown
	}
	s.log.Info("serving", "addr", s.Addr(), "data_dir", s.opts.DataDir, "targets", len(s.disc.Targets()))

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("http: %w", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stopDisc()
	<-discDone
	stopAlerts()
	<-alertsDone
	stopProv()
	<-provDone
	s.prov.close()
	s.scrape.Stop()
	stopRemote() // flushes what is buffered to the queue files
	remoteWG.Wait()
	s.closeRemote()
	if herr := s.http.Shutdown(shutdownCtx); herr != nil && !errors.Is(herr, http.ErrServerClosed) {
		err = errors.Join(err, herr)
	}
	return errors.Join(err, s.alerts.close(), s.store.Close())
}

func (s *Server) closeRemote() {
	for _, q := range s.remote {
		if err := q.Close(); err != nil {
			s.log.Error("closing a remote_write queue", "err", err)
		}
	}
}

// Reload re-reads the config file: scrape jobs, static and file_sd targets
// change; registered agents and history stay. A bad file changes nothing.
func (s *Server) Reload() error {
	cfg, err := loadConfig(s.opts)
	if err != nil {
		return err
	}
	full, err := s.withBuiltinJobs(cfg)
	if err != nil {
		return err
	}
	// Alerting first: a bad rule file or Alertmanager configuration fails
	// the reload before anything changed.
	if err := s.alerts.reload(context.Background(), cfg, s.ruleFiles(cfg)); err != nil {
		return err
	}
	if err := s.reconfigureAuth(cfg); err != nil {
		return err
	}
	if err := s.scrape.ApplyConfig(full.ScrapeConfigs); err != nil {
		return err
	}
	if err := s.disc.ApplyConfig(full); err != nil {
		return err
	}
	s.mu.Lock()
	s.cfg = cfg
	s.mu.Unlock()
	s.scrape.Sync(s.disc.Targets())
	s.log.Info("configuration reloaded", "jobs", len(full.ScrapeConfigs))
	if len(cfg.RemoteWrite) != len(s.remote) {
		s.log.Warn("remote_write changes take effect at the next restart")
	}
	return nil
}

// Run is New then Server.Run.
func Run(ctx context.Context, opts Options, logger *slog.Logger) error {
	s, err := New(ctx, opts, logger)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
