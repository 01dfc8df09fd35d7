package discovery

import (
	"errors"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// FileError is a file_sd file whose last read failed. Its previous targets
// (if any) are still in use.
type FileError struct {
	Job   string
	Path  string
	Err   error
	Since time.Time // first failure of the current run of failures
}

// fileSD follows the files of one file_sd_configs entry of one job. Files
// are found by globbing and re-read when their identity changes (size,
// modification time, inode) or when the refresh interval is due.
type fileSD struct {
	sc      config.ScrapeConfig
	globs   []string
	refresh time.Duration
	log     *slog.Logger
	m       *metrics
	now     func() time.Time

	mu          sync.Mutex
	files       map[string]*watchedFile
	lastRefresh time.Time
}

type watchedFile struct {
	id       fileID
	targets  []target.Target // from the last good read
	err      error           // of the last read, nil when it was good
	errSince time.Time
}

// fileID changes when a file is rewritten or replaced.
type fileID struct {
	mtime int64
	size  int64
	inode uint64
}

func idOf(fi fs.FileInfo) fileID {
	return fileID{mtime: fi.ModTime().UnixNano(), size: fi.Size(), inode: inode(fi)}
}

func newFileSD(sc config.ScrapeConfig, fc config.FileSDConfig, log *slog.Logger, m *metrics, now func() time.Time) *fileSD {
	return &fileSD{
		sc: sc, globs: fc.Files, refresh: time.Duration(fc.RefreshInterval),
		log: log.With("job", sc.JobName), m: m, now: now,
		files: map[string]*watchedFile{},
	}
}

// poll globs the files and reads those that are new or changed, or all of
// them when the refresh interval is due. It reports whether the targets
// changed.
func (f *fileSD) poll() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	refresh := f.lastRefresh.IsZero() || now.Sub(f.lastRefresh) >= f.refresh
	if refresh {
		f.lastRefresh = now
	}
	seen := map[string]bool{}
	changed := false
	for _, pattern := range f.globs {
		paths, _ := filepath.Glob(pattern) // the only error is a bad pattern, which config.Load refused
		for _, p := range paths {
			if seen[p] {
				continue
			}
			seen[p] = true
			changed = f.check(p, refresh, now) || changed
		}
	}
	for p, wf := range f.files {
		if !seen[p] {
			delete(f.files, p)
			f.log.Info("file_sd file is gone; its targets are removed", "file", p, "targets", len(wf.targets))
			changed = changed || len(wf.targets) > 0
		}
	}
	return changed
}

// check reads one file if it needs reading.
func (f *fileSD) check(p string, refresh bool, now time.Time) bool {
	wf := f.files[p]
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false // removed since the glob; the next poll drops it
	}
	var id fileID // zero when stat failed
	if err == nil {
		id = idOf(fi)
	}
	if wf != nil && wf.id == id && !refresh {
		return false // unchanged, or the same failure as last time (not logged every poll)
	}
	var ts []target.Target
	if err == nil {
		var b []byte
		if b, err = os.ReadFile(p); err == nil {
			ts, err = parseFileSD(f.sc, p, b)
		}
	}
	if wf == nil {
		wf = &watchedFile{}
		f.files[p] = wf
	}
	wf.id = id
	if err != nil {
		f.m.fileReadErrors.Inc()
		if wf.err == nil {
			wf.errSince = now
		}
		wf.err = err
		f.log.Error("file_sd file cannot be used; keeping its previous targets",
			"file", p, "err", err, "kept_targets", len(wf.targets))
		return false
	}
	if wf.err != nil {
		f.log.Info("file_sd file is usable again", "file", p, "targets", len(ts))
		wf.err = nil
	}
	if reflect.DeepEqual(ts, wf.targets) {
		return false
	}
	wf.targets = ts
	return true
}

// targets are the targets of every file, in path order.
func (f *fileSD) targets() []target.Target {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ts []target.Target
	for _, p := range slices.Sorted(maps.Keys(f.files)) {
		ts = append(ts, f.files[p].targets...)
	}
	return ts
}

func (f *fileSD) errors() []FileError {
	f.mu.Lock()
	defer f.mu.Unlock()
	var es []FileError
	for p, wf := range f.files {
		if wf.err != nil {
			es = append(es, FileError{Job: f.sc.JobName, Path: p, Err: wf.err, Since: wf.errSince})
		}
	}
	return es
}
