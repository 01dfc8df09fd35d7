package api

import (
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"time"
)

// CompatibleVersion is the Prometheus release whose HTTP API this package
// follows (module github.com/prometheus/prometheus v0.315.0), and the
// version /api/v1/status/buildinfo reports. Grafana picks its API calls by
// that version: below 2.24 it fetches label values through /series, which
// is far slower, so gpuwd's own version cannot go there (VictoriaMetrics
// reports a Prometheus version for the same reason). gpuwd's version is in
// the extra field gpuwdVersion.
const CompatibleVersion = "3.15.0"

// versionInfo is /api/v1/status/buildinfo's data.
type versionInfo struct {
	Version      string `json:"version"`
	Revision     string `json:"revision"`
	Branch       string `json:"branch"`
	BuildUser    string `json:"buildUser"`
	BuildDate    string `json:"buildDate"`
	GoVersion    string `json:"goVersion"`
	GpuwdVersion string `json:"gpuwdVersion"`
}

func newVersionInfo(version, revision string) versionInfo {
	v := versionInfo{Version: CompatibleVersion, Revision: revision, GoVersion: runtime.Version(), GpuwdVersion: version}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && v.Revision == "":
				v.Revision = s.Value
			case s.Key == "vcs.time":
				v.BuildDate = s.Value
			}
		}
	}
	return v
}

func (a *API) buildInfo(*http.Request) result { return result{data: a.build} }

// runtimeInfo is /api/v1/status/runtimeinfo's data, with the fields that
// mean something here; storage fields are left empty.
type runtimeInfo struct {
	StartTime           time.Time `json:"startTime"`
	CWD                 string    `json:"CWD"`
	Hostname            string    `json:"hostname"`
	ServerTime          time.Time `json:"serverTime"`
	ReloadConfigSuccess bool      `json:"reloadConfigSuccess"`
	LastConfigTime      time.Time `json:"lastConfigTime"`
	CorruptionCount     int64     `json:"corruptionCount"`
	GoroutineCount      int       `json:"goroutineCount"`
	GOMAXPROCS          int       `json:"GOMAXPROCS"`
	GOMEMLIMIT          int64     `json:"GOMEMLIMIT"`
	GOGC                string    `json:"GOGC"`
	GODEBUG             string    `json:"GODEBUG"`
	StorageRetention    string    `json:"storageRetention"`
}

func (a *API) runtimeInfo(*http.Request) result {
	info := runtimeInfo{
		StartTime:           a.started,
		ServerTime:          a.now().UTC(),
		ReloadConfigSuccess: true,
		LastConfigTime:      a.started,
		GoroutineCount:      runtime.NumGoroutine(),
		GOMAXPROCS:          runtime.GOMAXPROCS(0),
		GOMEMLIMIT:          debug.SetMemoryLimit(-1),
		GOGC:                os.Getenv("GOGC"),
		GODEBUG:             os.Getenv("GODEBUG"),
	}
	info.CWD, _ = os.Getwd()
	info.Hostname, _ = os.Hostname()
	return result{data: info}
}

// serveFlags is /api/v1/status/flags: Options.Flags.
func (a *API) serveFlags(*http.Request) result { return result{data: a.flags} }
