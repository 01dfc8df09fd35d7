package silence

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/matcher"
)

// ParseArgs reads matchers from command-line arguments as amtool does: each
// argument holds one or more matchers (alertname=GPUDown,
// 'severity=~"warning|critical"'), and a first argument without an
// operator is the alert name.
func ParseArgs(args []string) ([]Matcher, error) {
	if len(args) == 0 {
		return nil, errors.New("no matchers: give at least one, such as alertname=GPUOverheating")
	}
	var out []Matcher
	for i, a := range args {
		if i == 0 && !strings.ContainsAny(a, "=!~") {
			a = "alertname=" + a
		}
		ms, err := matcher.Parse(a)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			out = append(out, FromMatcher(m))
		}
	}
	if _, err := compile(out); err != nil {
		return nil, err
	}
	return out, nil
}

// New builds a silence for `gpuwd silence add`: from now (or start, when
// not zero) for d, by author (DefaultAuthor when empty).
func New(ms []Matcher, start time.Time, d time.Duration, author, comment string) (Silence, error) {
	if d <= 0 {
		return Silence{}, fmt.Errorf("silence duration must be positive, not %s", d)
	}
	if start.IsZero() {
		start = time.Now()
	}
	if author == "" {
		author = DefaultAuthor()
	}
	return Silence{Matchers: ms, StartsAt: start.UTC(), EndsAt: start.Add(d).UTC(), CreatedBy: author, Comment: comment}, nil
}

// DefaultAuthor is the user running the command, as amtool's default.
func DefaultAuthor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "gpuwd"
}

// WriteTable prints silences as amtool's simple output does: ID, matchers,
// end time, author and comment, one silence per line.
func WriteTable(w io.Writer, sils []Gettable) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMatchers\tEnds At\tCreated By\tComment\t")
	for _, s := range sils {
		ms := make([]string, len(s.Matchers))
		for i, m := range s.Matchers {
			ms[i] = m.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", s.ID, strings.Join(ms, " "),
			s.EndsAt.UTC().Format("2006-01-02 15:04:05 MST"), s.CreatedBy, oneLine(s.Comment))
	}
	return tw.Flush()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
