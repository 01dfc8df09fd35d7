package scrape

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// targetLabels are the labels a target attaches to everything scraped from
// it: job and instance, which the target's own labels may override (as a
// static_configs label overrides them in Prometheus). Reserved __ names are
// never attached.
func targetLabels(t target.Target) labels.Labels {
	b := labels.NewBuilder(labels.EmptyLabels())
	b.Set(model.JobLabel, t.Job)
	b.Set(model.InstanceLabel, t.Instance())
	for name, v := range t.Labels {
		if !strings.HasPrefix(name, model.ReservedLabelPrefix) {
			b.Set(name, v)
		}
	}
	return b.Labels()
}

// sameLabels reports whether two targets (of one key) label their series
// identically.
func sameLabels(a, b target.Target) bool {
	return a.Job == b.Job && a.Address == b.Address && maps.Equal(a.Labels, b.Labels)
}

// sampleLabels merges a scraped series' labels with the target's, as
// Prometheus' mutateSampleLabels does. With honor the exposition's value wins
// a conflict; without, the target's wins and the exposed value is kept as
// exported_<name> (exported_exported_<name> if that is taken too). Labels with
// empty values are dropped: an empty label is an absent one.
func sampleLabels(b *labels.Builder, exposed, tl labels.Labels, honor bool) labels.Labels {
	b.Reset(exposed)
	exposed.Range(func(l labels.Label) {
		if l.Value == "" {
			b.Del(l.Name)
		}
	})
	if honor {
		tl.Range(func(l labels.Label) {
			if exposed.Get(l.Name) == "" {
				b.Set(l.Name, l.Value)
			}
		})
		return b.Labels()
	}
	var conflicts []labels.Label
	tl.Range(func(l labels.Label) {
		if v := exposed.Get(l.Name); v != "" {
			conflicts = append(conflicts, labels.Label{Name: l.Name, Value: v})
		}
		b.Set(l.Name, l.Value)
	})
	// Shorter names first, so exported_x is given before exported_exported_x
	// would be needed.
	slices.SortStableFunc(conflicts, func(a, b labels.Label) int { return len(a.Name) - len(b.Name) })
	for _, l := range conflicts {
		name := l.Name
		for {
			name = model.ExportedLabelPrefix + name
			if b.Get(name) == "" {
				b.Set(name, l.Value)
				break
			}
		}
	}
	return b.Labels()
}

// checkSeries refuses the series Prometheus refuses to store from a
// scrape, which the store would keep: one without a metric name, or with a
// label name twice.
func checkSeries(lset labels.Labels) error {
	if !lset.Has(model.MetricNameLabel) {
		return fmt.Errorf("missing metric name (%s label): %s", model.MetricNameLabel, lset)
	}
	if name, dup := lset.HasDuplicateLabelNames(); dup {
		return fmt.Errorf("label name %q is not unique: %s", name, lset)
	}
	return nil
}

// reportLabels are the labels of a report series such as up.
func reportLabels(name string, tl labels.Labels) labels.Labels {
	b := labels.NewBuilder(tl)
	b.Set(model.MetricNameLabel, name)
	return b.Labels()
}
