package parse

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Stat is one sdiag value; OK is false when sdiag did not print it.
type Stat struct {
	Value float64
	OK    bool
}

// Scheduler holds the scheduler statistics the collectors export. Main and
// backfill cycles are in microseconds.
type Scheduler struct {
	ServerThreads   Stat // "Server thread count"
	AgentQueue      Stat // "Agent queue size"
	DBDAgentQueue   Stat // "DBD Agent queue size"
	LastCycle       Stat // main scheduler
	MeanCycle       Stat // only once it has run
	CyclesPerMinute Stat // only once the stats are a minute old

	BackfillLastCycle        Stat
	BackfillMeanCycle        Stat // only once backfill has run
	BackfillDepthMean        Stat
	BackfilledJobsSinceStart Stat // "Total backfilled jobs (since last slurm start)"
	BackfilledJobsSinceCycle Stat // "Total backfilled jobs (since last stats cycle start)"
	BackfilledHeterogeneous  Stat // "Total backfilled heterogeneous job components"
}

// Sdiag parses sdiag's output (22.05 to 26.05). "Last cycle" and "Mean
// cycle" appear in the main and the backfill section; each is read from its
// own section only, and a line sdiag leaves out stays unset.
func Sdiag(out []byte) (Scheduler, error) {
	var s Scheduler
	section := ""
	found := false
	err := eachLine(out, func(line string) error {
		if line[0] != '\t' && line[0] != ' ' { // a section starts, or a top-level line
			switch {
			case strings.HasPrefix(line, "Main schedule statistics"):
				section = "main"
				return nil
			case strings.HasPrefix(line, "Backfilling stats"):
				section = "backfill"
				return nil
			}
			section = ""
		}
		line = strings.TrimSpace(line)
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil
		}
		stat := s.stat(section, key)
		if stat == nil {
			return nil
		}
		v, err := strconv.ParseFloat(firstWord(val), 64)
		if err != nil {
			return fmt.Errorf("%s: %q is not a number", key, strings.TrimSpace(val))
		}
		*stat, found = Stat{v, true}, true
		return nil
	})
	if err == nil && !found {
		err = errors.New("no scheduler statistics in sdiag output")
	}
	return s, err
}

// stat returns the field for key in section, or nil.
func (s *Scheduler) stat(section, key string) *Stat {
	switch section {
	case "":
		switch key {
		case "Server thread count":
			return &s.ServerThreads
		case "Agent queue size":
			return &s.AgentQueue
		case "DBD Agent queue size":
			return &s.DBDAgentQueue
		}
	case "main":
		switch key {
		case "Last cycle":
			return &s.LastCycle
		case "Mean cycle":
			return &s.MeanCycle
		case "Cycles per minute":
			return &s.CyclesPerMinute
		}
	case "backfill":
		switch key {
		case "Last cycle":
			return &s.BackfillLastCycle
		case "Mean cycle":
			return &s.BackfillMeanCycle
		case "Depth Mean":
			return &s.BackfillDepthMean
		case "Total backfilled jobs (since last slurm start)":
			return &s.BackfilledJobsSinceStart
		case "Total backfilled jobs (since last stats cycle start)":
			return &s.BackfilledJobsSinceCycle
		case "Total backfilled heterogeneous job components":
			return &s.BackfilledHeterogeneous
		}
	}
	return nil
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
