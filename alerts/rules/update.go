package rules

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
)

// source is a rule file's name and the content last loaded from it.
type source struct {
	file    string
	content []byte
}

// Update loads the rule files (patterns are globs) and Options.Extra's
// rules. On any error nothing changes and the error names every problem;
// otherwise the new groups replace the old, and rules that stay (same
// group, name and labels) keep their alerts. The first Update restores
// state saved by a previous run.
func (m *Manager) Update(ctx context.Context, patterns []string) error {
	m.updateMu.Lock()
	defer m.updateMu.Unlock()
	files, err := ExpandFiles(patterns)
	if err != nil {
		return err
	}
	var srcs []source
	var errs []error
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		srcs = append(srcs, source{file: f, content: b})
	}
	return m.load(ctx, srcs, errs)
}

// Reload asks Options.Extra again and keeps the files' rules as the last
// successful Update loaded them, without reading the files: what to call
// after the extra rules changed. Errors are as for Update. Before the first
// successful Update it does nothing: that Update will ask Extra.
func (m *Manager) Reload(ctx context.Context) error {
	m.updateMu.Lock()
	defer m.updateMu.Unlock()
	if !m.loaded {
		return nil
	}
	return m.load(ctx, m.sources, nil)
}

// load parses srcs and Extra's rules and applies them when nothing, errs
// included, failed; m.updateMu is held.
func (m *Manager) load(ctx context.Context, srcs []source, errs []error) error {
	opts := m.loadOptions()
	var groups []*Group
	files := make([]string, 0, len(srcs))
	for _, src := range srcs {
		files = append(files, src.file)
		gs, err := Parse(src.file, src.content, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		groups = append(groups, gs...)
	}
	extra, err := m.loadExtra(ctx, files, opts)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	m.setGroups(ctx, files, append(groups, extra...))
	m.sources, m.loaded = srcs, true
	return nil
}

// loadExtra parses Options.Extra's rules.
func (m *Manager) loadExtra(ctx context.Context, files []string, opts LoadOptions) ([]*Group, error) {
	if m.opts.Extra == nil {
		return nil, nil
	}
	name, content, err := m.opts.Extra(ctx)
	switch {
	case err != nil && name == "":
		return nil, fmt.Errorf("extra rules: %w", err)
	case err != nil:
		return nil, fmt.Errorf("extra rules %s: %w", name, err)
	case len(content) == 0:
		return nil, nil
	case name == "":
		return nil, errors.New("extra rules have no name")
	case slices.Contains(files, name):
		return nil, fmt.Errorf("extra rules %s: a rule file has the same name", name)
	}
	return Parse(name, content, opts)
}

func (m *Manager) loadOptions() LoadOptions {
	return LoadOptions{
		DefaultInterval: m.opts.DefaultInterval,
		ExternalLabels:  m.opts.ExternalLabels,
		ExternalURL:     m.opts.ExternalURL,
	}
}
