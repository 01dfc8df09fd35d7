package store

// SeriesRef names a series inside one store; Ref hands them out.
type SeriesRef uint64

// Sample is one value of one series at a time in milliseconds.
type Sample struct {
	Ref SeriesRef
	T   int64
	V   float64
}

// Metadata is what an exposition says about a metric family.
type Metadata struct {
	Type string // counter, gauge, histogram, summary, info, stateset, unknown
	Help string
	Unit string
}
