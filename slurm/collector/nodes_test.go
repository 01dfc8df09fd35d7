package collector

import (
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/parse"
)

func TestNodeClass(t *testing.T) {
	for state, want := range map[string]string{
		"allocated": "alloc", "allocated+": "alloc", "allocated$": "alloc",
		"completing": "comp",
		"down":       "down", "down*": "down", "down$": "down",
		"drained": "drain", "draining": "drain", "drained*": "drain", "draining@": "drain",
		"fail": "fail", "failing": "fail", "fail*": "fail",
		"error": "err",
		"idle":  "idle", "idle~": "idle", "idle*": "idle", "idle#": "idle", "idle%": "idle", "idle!": "idle",
		"maint": "maint", "maint*": "maint",
		"mixed": "mix", "mixed-": "mix", "mixed$": "mix",
		"reserved": "resv",
		"planned":  "plnd",
		"inval":    "inval",
		"future":   "other", "unknown": "other", "unknown*": "other", "reboot^": "other", "perfctrs": "other",
		"resume": "other", "blocked": "other", "": "other",
	} {
		if got := nodeClass(state); got != want {
			t.Errorf("nodeClass(%q) = %q, want %q", state, got, want)
		}
	}
}

func TestNodeGPUs(t *testing.T) {
	for _, tt := range []struct {
		state                    string
		total, used              int
		wantAlloc, wantIdle, oth int
	}{
		{"idle", 4, 0, 0, 4, 0},
		{"mixed", 4, 1, 1, 3, 0},
		{"mixed-", 4, 1, 1, 3, 0},
		{"allocated", 4, 1, 1, 3, 0}, // CPUs all taken, GPUs not
		{"allocated+", 4, 4, 4, 0, 0},
		{"completing", 4, 2, 2, 2, 0},
		{"planned", 4, 0, 0, 4, 0},
		{"idle~", 4, 0, 0, 4, 0}, // powered down: Slurm powers it up for a job
		{"idle*", 4, 0, 0, 0, 4}, // not responding
		{"draining", 8, 3, 3, 0, 5},
		{"drained", 2, 0, 0, 0, 2},
		{"down*", 2, 0, 0, 0, 2},
		{"inval", 2, 0, 0, 0, 2},
		{"reserved", 2, 0, 0, 0, 2},
		{"maint", 2, 0, 0, 0, 2},
		{"mixed$", 4, 1, 1, 0, 3}, // in a maintenance reservation
		{"mixed", 2, 3, 2, 0, 0},  // more used than there are: clamped
	} {
		a, i, o := nodeGPUs(parse.Node{State: tt.state, GPUs: tt.total, GPUsUsed: tt.used})
		if a != tt.wantAlloc || i != tt.wantIdle || o != tt.oth {
			t.Errorf("%s %d/%d: alloc %d idle %d other %d", tt.state, tt.used, tt.total, a, i, o)
		}
	}
}
