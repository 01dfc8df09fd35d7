package store

import (
	"cmp"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
)

// match returns the series matching every matcher, in ref order.
func (ix *index) match(ms []*labels.Matcher) []*memSeries {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var candidates []SeriesRef
	have := false
	// Narrow with the most selective matcher that needs its label present.
	for _, m := range ms {
		if m.Matches("") {
			continue
		}
		var refs []SeriesRef
		vals := ix.postings[m.Name]
		if m.Type == labels.MatchEqual {
			refs = vals[m.Value]
		} else {
			for v, list := range vals {
				if m.Matches(v) {
					refs = append(refs, list...)
				}
			}
			slices.Sort(refs)
		}
		if !have || len(refs) < len(candidates) {
			candidates, have = refs, true
		}
		if len(candidates) == 0 {
			return nil
		}
	}
	var out []*memSeries
	check := func(s *memSeries) {
		for _, m := range ms {
			if !m.Matches(s.lset.Get(m.Name)) {
				return
			}
		}
		out = append(out, s)
	}
	if have {
		for _, ref := range candidates {
			if s := ix.byRef[ref]; s != nil {
				check(s)
			}
		}
		return out
	}
	for _, s := range ix.byRef {
		check(s)
	}
	slices.SortFunc(out, func(a, b *memSeries) int { return cmp.Compare(a.ref, b.ref) })
	return out
}

// labelValues returns the values of name among series newer than mint.
func (ix *index) labelValues(name string, mint int64) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []string
	for v, refs := range ix.postings[name] {
		for _, ref := range refs {
			if s := ix.byRef[ref]; s != nil && s.newestT() >= mint {
				out = append(out, v)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// labelNames returns the label names among series newer than mint.
func (ix *index) labelNames(mint int64) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []string
	for name, vals := range ix.postings {
	values:
		for _, refs := range vals {
			for _, ref := range refs {
				if s := ix.byRef[ref]; s != nil && s.newestT() >= mint {
					out = append(out, name)
					break values
				}
			}
		}
	}
	slices.Sort(out)
	return out
}
