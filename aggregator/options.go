package aggregator

import (
	"flag"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
)

// Options are gpuwd serve's command-line settings; the YAML config file
// holds the rest (scrape jobs, registration, storage, remote_write).
type Options struct {
	ConfigFile string
	Listen     string
	DataDir    string
	// Retention overrides the config's storage.retention when non-zero.
	Retention time.Duration
	// Token / TokenFile override the config's registration token.
	Token     string
	TokenFile string
	// QueryTimeout bounds one query; QueryMaxSamples bounds the samples one
	// query may hold in memory.
	QueryTimeout    time.Duration
	QueryMaxSamples int
	// SelfScrape stores the aggregator's own metrics (job "gpuwd"), so
	// rules can watch its disk and scrapes.
	SelfScrape bool
	// EnableLifecycle serves POST /-/reload, as Prometheus'
	// --web.enable-lifecycle: off, since it needs no login.
	EnableLifecycle bool
	// DashboardRefresh is how often dashboard pages update themselves in
	// the browser; 0 turns it off.
	DashboardRefresh time.Duration
	// PublicDashboard serves the dashboard's read-only pages without a
	// login (the config's dashboard.public does too).
	PublicDashboard bool
	// ExternalURL is how people reach this server (behind a proxy, say):
	// notifications link to its pages.
	ExternalURL string

	Version, Revision string
}

// DefaultOptions are the documented defaults.
func DefaultOptions() Options {
	return Options{
		Listen:           ":8080",
		DataDir:          "data",
		QueryTimeout:     2 * time.Minute,
		QueryMaxSamples:  50_000_000,
		SelfScrape:       true,
		DashboardRefresh: 15 * time.Second,
	}
}

// RegisterFlags binds o to fs.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile, "YAML configuration file (scrape jobs, registration, storage, remote_write); none: agents register themselves")
	fs.StringVar(&o.Listen, "listen", o.Listen, "address of the dashboard and the API")
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "directory of the SQLite history")
	fs.Var((*promDuration)(&o.Retention), "retention", "keep history this long, in Prometheus' units (15d, 360h; overrides storage.retention; default 15d)")
	fs.StringVar(&o.Token, "token", o.Token, "token agents present to register (overrides registration.token)")
	fs.StringVar(&o.TokenFile, "token-file", o.TokenFile, "file holding the registration token")
	fs.DurationVar(&o.QueryTimeout, "query-timeout", o.QueryTimeout, "longest a query may run")
	fs.IntVar(&o.QueryMaxSamples, "query-max-samples", o.QueryMaxSamples, "most samples a query may load")
	fs.StringVar(&o.ExternalURL, "external-url", o.ExternalURL, "URL under which people reach this server, for links in notifications (default: http://<hostname>:<port>)")
	fs.BoolVar(&o.EnableLifecycle, "enable-lifecycle", o.EnableLifecycle, "serve POST /-/reload (reload the config, rules and routing, like SIGHUP); it needs no login, so only where the API is private")
	fs.BoolVar(&o.PublicDashboard, "public-dashboard", o.PublicDashboard, "serve the dashboard's read-only pages without a login (actions still need an admin)")
	fs.DurationVar(&o.DashboardRefresh, "dashboard-refresh", o.DashboardRefresh, "how often dashboard pages update themselves in the browser (0: never)")
	fs.BoolVar(&o.SelfScrape, "self-scrape", o.SelfScrape, "store the aggregator's own metrics as job \"gpuwd\"")
}

func (o *Options) check() error {
	switch {
	case o.Listen == "":
		return fmt.Errorf("--listen is empty")
	case o.DataDir == "":
		return fmt.Errorf("--data-dir is empty")
	case o.Retention < 0:
		return fmt.Errorf("--retention %s is negative", o.Retention)
	case o.QueryTimeout <= 0:
		return fmt.Errorf("--query-timeout must be positive")
	case o.QueryMaxSamples <= 0:
		return fmt.Errorf("--query-max-samples must be positive")
	case o.Token != "" && o.TokenFile != "":
		return fmt.Errorf("--token and --token-file are both set; use one")
	}
	return nil
}

// promDuration is a flag in Prometheus' duration syntax, as the
// configuration's, so --retention takes 15d as storage.retention does.
type promDuration time.Duration

func (d *promDuration) String() string { return model.Duration(*d).String() }

func (d *promDuration) Set(s string) error {
	v, err := model.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = promDuration(v)
	return nil
}
