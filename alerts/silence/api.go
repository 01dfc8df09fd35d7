package silence

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// TimeFormat is how Alertmanager's API writes times: RFC 3339 in UTC with
// milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// FormatTime writes t as Alertmanager's API does.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// Gettable is a silence as Alertmanager's API v2 returns it
// (GettableSilence): the silence and its state at the time of the request.
type Gettable struct {
	Silence
	State State
}

// MarshalJSON writes Alertmanager's field names, in its order.
func (g Gettable) MarshalJSON() ([]byte, error) {
	matchers := g.Matchers
	if matchers == nil {
		matchers = []Matcher{}
	}
	return json.Marshal(struct {
		ID        string    `json:"id"`
		Status    status    `json:"status"`
		UpdatedAt string    `json:"updatedAt"`
		Comment   string    `json:"comment"`
		CreatedBy string    `json:"createdBy"`
		EndsAt    string    `json:"endsAt"`
		Matchers  []Matcher `json:"matchers"`
		StartsAt  string    `json:"startsAt"`
	}{g.ID, status{g.State}, FormatTime(g.UpdatedAt), g.Comment, g.CreatedBy, FormatTime(g.EndsAt), matchers, FormatTime(g.StartsAt)})
}

type status struct {
	State State `json:"state"`
}

// UnmarshalJSON reads a GettableSilence.
func (g *Gettable) UnmarshalJSON(b []byte) error {
	var v struct {
		ID        string    `json:"id"`
		Status    status    `json:"status"`
		UpdatedAt time.Time `json:"updatedAt"`
		Comment   string    `json:"comment"`
		CreatedBy string    `json:"createdBy"`
		EndsAt    time.Time `json:"endsAt"`
		Matchers  []Matcher `json:"matchers"`
		StartsAt  time.Time `json:"startsAt"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*g = Gettable{
		Silence: Silence{ID: v.ID, Matchers: v.Matchers, StartsAt: v.StartsAt, EndsAt: v.EndsAt,
			UpdatedAt: v.UpdatedAt, CreatedBy: v.CreatedBy, Comment: v.Comment},
		State: v.Status.State,
	}
	return nil
}

// postable is Alertmanager's PostableSilence; pointers tell a missing
// required field from a zero one.
type postable struct {
	ID        string        `json:"id,omitempty"`
	Matchers  []postMatcher `json:"matchers"`
	StartsAt  *time.Time    `json:"startsAt"`
	EndsAt    *time.Time    `json:"endsAt"`
	CreatedBy *string       `json:"createdBy"`
	Comment   *string       `json:"comment"`
}

type postMatcher struct {
	Name    *string `json:"name"`
	Value   *string `json:"value"`
	IsRegex *bool   `json:"isRegex"`
	IsEqual *bool   `json:"isEqual,omitempty"`
}

// SchemaError is a request body that does not have the fields the API
// requires (Alertmanager answers 422).
type SchemaError struct{ Msg string }

func (e *SchemaError) Error() string { return e.Msg }

// DecodePostable reads a PostableSilence request body as Alertmanager does:
// matchers (at least one, each with name, value and isRegex; isEqual
// defaults to true), startsAt, endsAt, createdBy and comment are required;
// unknown fields are ignored. A body that is not JSON is a plain error, a
// missing field a *SchemaError.
func DecodePostable(r io.Reader) (Silence, error) {
	var p postable
	if err := json.NewDecoder(r).Decode(&p); err != nil {
		return Silence{}, fmt.Errorf("parsing silence body failed: %w", err)
	}
	missing := func(f string) error { return &SchemaError{Msg: f + " in body is required"} }
	switch {
	case p.Matchers == nil:
		return Silence{}, missing("matchers")
	case len(p.Matchers) == 0:
		return Silence{}, &SchemaError{Msg: "matchers in body should have at least 1 items"}
	case p.StartsAt == nil:
		return Silence{}, missing("startsAt")
	case p.EndsAt == nil:
		return Silence{}, missing("endsAt")
	case p.CreatedBy == nil:
		return Silence{}, missing("createdBy")
	case p.Comment == nil:
		return Silence{}, missing("comment")
	}
	sil := Silence{ID: p.ID, StartsAt: p.StartsAt.UTC(), EndsAt: p.EndsAt.UTC(), CreatedBy: *p.CreatedBy, Comment: *p.Comment}
	for i, m := range p.Matchers {
		switch {
		case m.Name == nil:
			return Silence{}, missing(fmt.Sprintf("matchers.%d.name", i))
		case m.Value == nil:
			return Silence{}, missing(fmt.Sprintf("matchers.%d.value", i))
		case m.IsRegex == nil:
			return Silence{}, missing(fmt.Sprintf("matchers.%d.isRegex", i))
		}
		eq := m.IsEqual == nil || *m.IsEqual
		sil.Matchers = append(sil.Matchers, Matcher{Name: *m.Name, Value: *m.Value, IsRegex: *m.IsRegex, IsEqual: eq})
	}
	return sil, nil
}

// EncodePostable writes sil as a PostableSilence.
func EncodePostable(sil Silence) ([]byte, error) {
	if len(sil.Matchers) == 0 {
		return nil, errors.New("silence: at least one matcher required")
	}
	return json.Marshal(struct {
		ID        string    `json:"id,omitempty"`
		Matchers  []Matcher `json:"matchers"`
		StartsAt  string    `json:"startsAt"`
		EndsAt    string    `json:"endsAt"`
		CreatedBy string    `json:"createdBy"`
		Comment   string    `json:"comment"`
	}{sil.ID, sil.Matchers, FormatTime(sil.StartsAt), FormatTime(sil.EndsAt), sil.CreatedBy, sil.Comment})
}
