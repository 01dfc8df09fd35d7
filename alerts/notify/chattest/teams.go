package chattest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"
)

// TeamsMessage is a Workflows webhook payload: a message with Adaptive Card
// attachments.
type TeamsMessage struct {
	Type        string            `json:"type"`
	Attachments []TeamsAttachment `json:"attachments"`
}

// TeamsAttachment wraps one card.
type TeamsAttachment struct {
	ContentType string       `json:"contentType"`
	ContentURL  *string      `json:"contentUrl"`
	Content     AdaptiveCard `json:"content"`
}

// AdaptiveCard is the part of the Adaptive Card schema tests look at.
type AdaptiveCard struct {
	Schema  string            `json:"$schema"`
	Type    string            `json:"type"`
	Version string            `json:"version"`
	Body    []CardElement     `json:"body"`
	Actions []CardAction      `json:"actions"`
	MSTeams map[string]string `json:"msteams"`
}

// CardElement is a TextBlock, FactSet, Container, ColumnSet, Column or
// ActionSet (the fields of the others are left out).
type CardElement struct {
	Type      string        `json:"type"`
	Text      *string       `json:"text"`
	Weight    string        `json:"weight"`
	Size      string        `json:"size"`
	Color     string        `json:"color"`
	Style     string        `json:"style"`
	Wrap      bool          `json:"wrap"`
	Separator bool          `json:"separator"`
	Facts     []CardFact    `json:"facts"`
	Items     []CardElement `json:"items"`
	Columns   []CardElement `json:"columns"`
	Actions   []CardAction  `json:"actions"`
}

// CardFact is one title/value pair of a FactSet.
type CardFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// CardAction is an action; only Action.OpenUrl is checked.
type CardAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// TeamsMaxPayload is Teams' message size limit (about 28 KB).
const TeamsMaxPayload = 28 << 10

// NewTeams starts a Teams Workflows webhook: a message whose attachments
// are Adaptive Cards that pass the schema's basics is answered 202; others
// get 400 (413 past the size limit) with a Power Automate style JSON error.
func NewTeams(t testing.TB) *Server[TeamsMessage] {
	t.Helper()
	return newServer[TeamsMessage](t, teamsService{})
}

type teamsService struct{}

var cardVersion = regexp.MustCompile(`^1\.[0-6]$`)

// The values Adaptive Cards allow for a TextBlock's color, size and weight.
func cardColor(s string) bool {
	return slices.Contains([]string{"", "Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"}, s)
}
func cardSize(s string) bool {
	return slices.Contains([]string{"", "Default", "Small", "Medium", "Large", "ExtraLarge"}, s)
}
func cardWeight(s string) bool {
	return slices.Contains([]string{"", "Default", "Lighter", "Bolder"}, s)
}

func (teamsService) accept(_ *http.Request, body []byte) (TeamsMessage, *Reply) {
	var m TeamsMessage
	if len(body) > TeamsMaxPayload {
		return m, teamsError(http.StatusRequestEntityTooLarge, "MessageTooLarge", "The message is larger than 28 KB.")
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, teamsError(http.StatusBadRequest, "InvalidRequestContent", "The request content is not valid JSON.")
	}
	if err := checkTeams(m); err != nil {
		return m, teamsError(http.StatusBadRequest, "InvalidRequestContent", err.Error())
	}
	return m, nil
}

func checkTeams(m TeamsMessage) error {
	if m.Type != "message" {
		return fmt.Errorf(`type must be "message"`)
	}
	if len(m.Attachments) == 0 {
		return fmt.Errorf("attachments: at least one card is required")
	}
	for i, a := range m.Attachments {
		if a.ContentType != "application/vnd.microsoft.card.adaptive" {
			return fmt.Errorf("attachments[%d].contentType must be application/vnd.microsoft.card.adaptive", i)
		}
		c := a.Content
		if c.Type != "AdaptiveCard" {
			return fmt.Errorf(`attachments[%d].content.type must be "AdaptiveCard"`, i)
		}
		if !cardVersion.MatchString(c.Version) {
			return fmt.Errorf("attachments[%d].content.version %q is not an Adaptive Card version", i, c.Version)
		}
		if err := checkElements(c.Body); err != nil {
			return fmt.Errorf("attachments[%d].content.body%w", i, err)
		}
		if err := checkActions(c.Actions); err != nil {
			return fmt.Errorf("attachments[%d].content.actions%w", i, err)
		}
	}
	return nil
}

func checkElements(es []CardElement) error {
	for i, e := range es {
		var err error
		switch e.Type {
		case "TextBlock":
			switch {
			case e.Text == nil || *e.Text == "":
				err = fmt.Errorf(": TextBlock needs text")
			case !cardColor(e.Color):
				err = fmt.Errorf(": color %q", e.Color)
			case !cardSize(e.Size):
				err = fmt.Errorf(": size %q", e.Size)
			case !cardWeight(e.Weight):
				err = fmt.Errorf(": weight %q", e.Weight)
			}
		case "FactSet":
			if len(e.Facts) == 0 {
				err = fmt.Errorf(": FactSet needs facts")
			}
			for _, f := range e.Facts {
				if f.Title == "" || f.Value == "" {
					err = fmt.Errorf(": a fact needs a title and a value")
				}
			}
		case "Container", "Column":
			err = checkElements(e.Items)
		case "ColumnSet":
			err = checkElements(e.Columns)
		case "ActionSet":
			err = checkActions(e.Actions)
		case "Image", "RichTextBlock", "Table":
		default:
			err = fmt.Errorf(": unknown element type %q", e.Type)
		}
		if err != nil {
			return fmt.Errorf("[%d]%w", i, err)
		}
	}
	return nil
}

func checkActions(as []CardAction) error {
	for i, a := range as {
		switch a.Type {
		case "Action.OpenUrl":
			if u, err := url.Parse(a.URL); err != nil || !u.IsAbs() {
				return fmt.Errorf("[%d]: Action.OpenUrl needs an absolute url", i)
			}
		case "Action.Submit", "Action.ShowCard", "Action.ToggleVisibility", "Action.Execute":
		default:
			return fmt.Errorf("[%d]: unknown action type %q", i, a.Type)
		}
	}
	return nil
}

func teamsError(status int, code, message string) *Reply {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": message}})
	return &Reply{Status: status, Header: jsonHeader(), Body: string(b)}
}

func (teamsService) success() Reply { return Reply{Status: http.StatusAccepted} }

func (teamsService) failure(f Failure) Reply {
	code := http.StatusText(f.Status)
	switch f.Status {
	case http.StatusTooManyRequests:
		code = "WorkflowTriggerIsThrottled"
	case http.StatusNotFound:
		code = "WorkflowNotFound"
	}
	r := *teamsError(f.Status, code, http.StatusText(f.Status))
	for k, vs := range failureHeader(f) {
		r.Header[k] = vs
	}
	if f.Body != "" {
		r.Body = f.Body
	}
	return r
}

func (teamsService) gone() Reply {
	return *teamsError(http.StatusNotFound, "WorkflowNotFound", "The workflow could not be found.")
}
