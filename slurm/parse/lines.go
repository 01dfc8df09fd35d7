package parse

import (
	"fmt"
	"strconv"
	"strings"
)

// LineError is a line of command output that could not be parsed.
type LineError struct {
	Line int    // 1-based
	Text string // the line
	Msg  string // what was wrong
}

func (e *LineError) Error() string {
	text := e.Text
	if len(text) > 120 {
		text = text[:117] + "..."
	}
	return fmt.Sprintf("line %d: %s: %q", e.Line, e.Msg, text)
}

// eachLine calls fn for every non-blank line of out, numbered from 1, and
// turns fn's error into a LineError.
func eachLine(out []byte, fn func(line string) error) error {
	n := 0
	for line := range strings.Lines(string(out)) {
		n++
		line = strings.TrimRight(line, " \t\r\n")
		if line == "" {
			continue
		}
		if err := fn(line); err != nil {
			return &LineError{Line: n, Text: line, Msg: err.Error()}
		}
	}
	return nil
}

// split cuts a line of -O output into exactly len(dst) '|'-separated fields.
// The last field takes the rest of the line, '|' included, which is why the
// free-text field is always asked for last.
func split(dst []string, line string) error {
	n := len(dst)
	for i := range n - 1 {
		f, rest, ok := strings.Cut(line, "|")
		if !ok {
			return fmt.Errorf("%d |-separated fields, want %d", i+1, n)
		}
		dst[i], line = f, rest
	}
	dst[n-1] = line
	return nil
}

// count parses a non-negative count. Slurm prints its unset values
// (NO_VAL, INFINITE: 4294967294, 4294967295) and "N/A" where a count is
// unknown; those read as 0.
func count(field, s string) (int, error) {
	if s == "N/A" || s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s %q is not a count", field, s)
	}
	if n >= 0xfffffffe {
		return 0, nil
	}
	return int(n), nil
}

// noneIfNull maps Slurm's spellings of "nothing" to "".
func noneIfNull(s string) string {
	if s == "(null)" || s == "N/A" {
		return ""
	}
	return s
}
