package silence

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/matcher"
)

// State is where a silence is in its life.
type State string

// The states: pending before StartsAt, active until EndsAt, then expired.
const (
	StatePending State = "pending"
	StateActive  State = "active"
	StateExpired State = "expired"
)

// Matcher is one matcher of a silence, in Alertmanager's API fields:
// IsEqual false negates it (!= or !~).
type Matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual bool   `json:"isEqual"`
}

// Type is the matcher's match type.
func (m Matcher) Type() matcher.Type {
	switch {
	case m.IsRegex && m.IsEqual:
		return matcher.Regexp
	case m.IsRegex:
		return matcher.NotRegexp
	case m.IsEqual:
		return matcher.Equal
	}
	return matcher.NotEqual
}

// String is the matcher in Alertmanager's syntax: name=~"value".
func (m Matcher) String() string {
	return (&matcher.Matcher{Type: m.Type(), Name: m.Name, Value: m.Value}).String()
}

// FromMatcher converts a parsed matcher.
func FromMatcher(m *matcher.Matcher) Matcher {
	return Matcher{
		Name:    m.Name,
		Value:   m.Value,
		IsRegex: m.Type == matcher.Regexp || m.Type == matcher.NotRegexp,
		IsEqual: m.Type == matcher.Equal || m.Type == matcher.Regexp,
	}
}

// Silence mutes the alerts its matchers all match, from StartsAt to EndsAt.
type Silence struct {
	ID        string
	Matchers  []Matcher
	StartsAt  time.Time
	EndsAt    time.Time
	UpdatedAt time.Time
	CreatedBy string
	Comment   string
}

// State is the silence's state at now.
func (s *Silence) State(now time.Time) State {
	switch {
	case now.Before(s.StartsAt):
		return StatePending
	case now.After(s.EndsAt):
		return StateExpired
	}
	return StateActive
}

// ErrNotFound is returned for a silence ID that is not known.
var ErrNotFound = errors.New("silence not found")

// InvalidError is a silence that cannot be stored as it is.
type InvalidError struct{ Reason string }

func (e *InvalidError) Error() string { return "silence invalid: " + e.Reason }

func invalid(format string, args ...any) error {
	return &InvalidError{Reason: fmt.Sprintf(format, args...)}
}

// compile checks the matchers as Alertmanager does and builds them.
func compile(ms []Matcher) (matcher.Matchers, error) {
	if len(ms) == 0 {
		return nil, invalid("at least one matcher required")
	}
	out := make(matcher.Matchers, 0, len(ms))
	allMatchEmpty := true
	for i, m := range ms {
		if !matcher.IsValidLabelName(m.Name) {
			return nil, invalid("invalid label matcher %d: invalid label name %q", i, m.Name)
		}
		cm, err := matcher.New(m.Type(), m.Name, m.Value)
		if err != nil {
			return nil, invalid("invalid label matcher %d: %v", i, err)
		}
		// Alertmanager asks this only of = and =~: a silence made of
		// negative matchers alone is allowed.
		if !((m.Type() == matcher.Equal || m.Type() == matcher.Regexp) && cm.MatchesEmpty()) {
			allMatchEmpty = false
		}
		out = append(out, cm)
	}
	if allMatchEmpty {
		return nil, invalid("at least one matcher must not match the empty string")
	}
	return out, nil
}

func validate(s *Silence) (matcher.Matchers, error) {
	ms, err := compile(s.Matchers)
	if err != nil {
		return nil, err
	}
	switch {
	case s.StartsAt.IsZero():
		return nil, invalid("invalid zero start timestamp")
	case s.EndsAt.IsZero():
		return nil, invalid("invalid zero end timestamp")
	case s.EndsAt.Before(s.StartsAt):
		return nil, invalid("end time must not be before start time")
	}
	return ms, nil
}

// canUpdate reports whether prev may be changed into next in place without
// rewriting history: same matchers, and only the times a silence in prev's
// state may still change. Otherwise Set expires prev and creates a new one.
func canUpdate(prev, next *Silence, now time.Time) bool {
	if !slices.Equal(prev.Matchers, next.Matchers) {
		return false
	}
	switch prev.State(now) {
	case StateActive:
		return next.StartsAt.Unix() == prev.StartsAt.Unix() && !next.EndsAt.Before(now)
	case StatePending:
		return !next.StartsAt.Before(now)
	}
	return false
}

// newID returns a random (version 4) UUID.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
