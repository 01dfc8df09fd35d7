package supervise

import (
	"log/slog"
	"strings"
)

// Classify turns one line of a daemon's output into a log level and a
// message: Slurm's "[timestamp] error: …" and "slurmd: error: …", munged's
// "munged: Error: …". The timestamp and program prefix are dropped (the
// agent's log has both). Known harmless noise is demoted to debug.
func Classify(line string) (slog.Level, string) {
	s := strings.TrimRight(line, "\r\n\t ")
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "] "); i > 0 && i < 40 {
			s = s[i+2:]
		}
	}
	if prog, rest, ok := strings.Cut(s, ": "); ok && isProgram(prog) {
		s = rest
	}
	level := slog.LevelInfo
	if word, rest, ok := strings.Cut(s, ": "); ok && !strings.Contains(word, " ") {
		if l, known := levels[strings.ToLower(word)]; known {
			level, s = l, rest
		} else if strings.HasPrefix(strings.ToLower(word), "debug") {
			level, s = slog.LevelDebug, rest
		}
	}
	for _, noise := range harmless {
		if strings.Contains(s, noise) {
			level = slog.LevelDebug
		}
	}
	for _, normal := range expected {
		if strings.Contains(s, normal) && level > slog.LevelInfo {
			level = slog.LevelInfo
		}
	}
	return level, strings.TrimSpace(s)
}

var levels = map[string]slog.Level{
	"fatal": slog.LevelError, "error": slog.LevelError, "emergency": slog.LevelError,
	"alert": slog.LevelError, "critical": slog.LevelError,
	"warning": slog.LevelWarn,
	"notice":  slog.LevelInfo, "info": slog.LevelInfo, "verbose": slog.LevelInfo,
}

// harmless are errors Slurm logs on a healthy node: at every start on a
// stock Debian install (no PMIx library, a fresh state directory), and for
// every port probe.
var harmless = []string{
	"pmix", "PMIx", "MPI: Cannot create context",
	"Could not open node state file", "Could not open job state file",
	"Could not open reservation state file", "Could not open trigger state file",
	"No node state file", "No job state file", "No reservation state file", "No trigger state file",
	"NOTE: Trying backup state save file",
	// A TCP connection closed without a message: port probes (the agent's
	// own wait for slurmctld, a load balancer's health check).
	"Zero Bytes were transmitted or received",
}

// isProgram recognises the program prefix of a daemon's stderr lines:
// "slurmd", "slurmd-w1" (slurmd names itself after its node), "munged".
func isProgram(p string) bool {
	for _, name := range []string{"slurmctld", "slurmd", "slurmstepd", "munged"} {
		if p == name || strings.HasPrefix(p, name+"-") && !strings.Contains(p, " ") {
			return true
		}
	}
	return false
}

// expected are warnings and errors that are how things work here; they
// stay in the log at info.
var expected = []string{
	// gres.conf lists every GPU slot; a node with fewer GPUs ignores the rest.
	"more configured than expected in slurm.conf. Ignoring extra GRES",
	// A dynamic node's first contact, before it has registered.
	"_find_node_record: lookup failure for node",
}
