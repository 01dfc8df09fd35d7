package parse

import (
	"strings"
	"testing"
)

func TestSdiag(t *testing.T) {
	unset := Stat{}
	tests := []struct {
		file string
		want Scheduler
	}{
		{"22.05-sdiag.txt", Scheduler{
			ServerThreads: Stat{3, true}, AgentQueue: Stat{0, true}, DBDAgentQueue: Stat{0, true},
			LastCycle: Stat{191, true}, MeanCycle: Stat{234, true}, CyclesPerMinute: Stat{12, true},
			BackfillLastCycle: Stat{124, true}, BackfillMeanCycle: Stat{331, true}, BackfillDepthMean: Stat{4, true},
			BackfilledJobsSinceStart: Stat{1, true}, BackfilledJobsSinceCycle: Stat{1, true}, BackfilledHeterogeneous: Stat{0, true},
		}},
		// Backfill has not run: no backfill mean lines, and the main
		// values must not leak into them.
		{"24.11-sdiag.txt", Scheduler{
			ServerThreads: Stat{1, true}, AgentQueue: Stat{0, true}, DBDAgentQueue: Stat{0, true},
			LastCycle: Stat{3508, true}, MeanCycle: Stat{779, true}, CyclesPerMinute: Stat{5, true},
			BackfillLastCycle: Stat{0, true}, BackfillMeanCycle: unset, BackfillDepthMean: unset,
			BackfilledJobsSinceStart: Stat{0, true}, BackfilledJobsSinceCycle: Stat{0, true}, BackfilledHeterogeneous: Stat{0, true},
		}},
		{"21.08-sdiag.txt", Scheduler{
			ServerThreads: Stat{3, true}, AgentQueue: Stat{0, true}, DBDAgentQueue: Stat{32733, true},
			LastCycle: Stat{8, true}, MeanCycle: Stat{162, true}, CyclesPerMinute: Stat{1, true},
			BackfillLastCycle: Stat{0, true}, BackfillMeanCycle: unset, BackfillDepthMean: unset,
			BackfilledJobsSinceStart: Stat{0, true}, BackfilledJobsSinceCycle: Stat{0, true}, BackfilledHeterogeneous: Stat{0, true},
		}},
	}
	for _, tt := range tests {
		got, err := Sdiag(readTestdata(t, tt.file))
		if err != nil || got != tt.want {
			t.Errorf("%s:\n got %+v, %v\nwant %+v", tt.file, got, err, tt.want)
		}
	}
}

func TestSdiagBad(t *testing.T) {
	for _, tt := range []struct{ out, want string }{
		{"", "no scheduler statistics"},
		{"garbage\nmore garbage\n", "no scheduler statistics"},
		{"Server thread count:  many\n", `line 1: Server thread count: "many" is not a number`},
		{"Main schedule statistics (microseconds):\n\tLast cycle:   \n", "line 2: Last cycle"},
	} {
		if _, err := Sdiag([]byte(tt.out)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Sdiag(%q): %v, want …%s…", tt.out, err, tt.want)
		}
	}
}
