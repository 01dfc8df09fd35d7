package chattest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// DiscordMessage is an execute-webhook payload as Discord reads it. Color
// is an int: a string or fraction there is refused, as Discord does.
type DiscordMessage struct {
	Content         string                  `json:"content"`
	Username        string                  `json:"username"`
	AvatarURL       string                  `json:"avatar_url"`
	TTS             bool                    `json:"tts"`
	Embeds          []DiscordEmbed          `json:"embeds"`
	AllowedMentions *DiscordAllowedMentions `json:"allowed_mentions"`
}

// DiscordEmbed is one embed.
type DiscordEmbed struct {
	Title       string         `json:"title"`
	Description string         `json:"description"`
	URL         string         `json:"url"`
	Timestamp   string         `json:"timestamp"`
	Color       *int           `json:"color"`
	Footer      *DiscordFooter `json:"footer"`
	Author      *DiscordAuthor `json:"author"`
	Fields      []DiscordField `json:"fields"`
}

// DiscordFooter is an embed's footer.
type DiscordFooter struct {
	Text    string `json:"text"`
	IconURL string `json:"icon_url"`
}

// DiscordAuthor is an embed's author.
type DiscordAuthor struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// DiscordField is an embed field.
type DiscordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

// DiscordAllowedMentions says whom the message may ping.
type DiscordAllowedMentions struct {
	Parse []string `json:"parse"`
}

// Discord's limits (discord-api-docs, resources/message.md), in characters.
const (
	DiscordMaxContent     = 2000
	DiscordMaxEmbeds      = 10
	DiscordMaxTitle       = 256
	DiscordMaxDescription = 4096
	DiscordMaxFields      = 25
	DiscordMaxFieldName   = 256
	DiscordMaxFieldValue  = 1024
	DiscordMaxFooter      = 2048
	DiscordMaxAuthor      = 256
	DiscordMaxEmbedTotal  = 6000
	DiscordMaxUsername    = 80
)

// NewDiscord starts a Discord webhook: a valid payload within every size
// limit is answered 204 with rate-limit headers; others get 400 with
// Discord's JSON error (code 50035 "Invalid Form Body", 50006 empty
// message, 50109 invalid JSON). A scripted 429 carries Retry-After, the
// X-RateLimit-* headers and the body's float retry_after.
func NewDiscord(t testing.TB) *Server[DiscordMessage] {
	t.Helper()
	return newServer[DiscordMessage](t, discordService{})
}

type discordService struct{}

func (discordService) accept(_ *http.Request, body []byte) (DiscordMessage, *Reply) {
	var m DiscordMessage
	if err := json.Unmarshal(body, &m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return m, formError(formProblem{te.Field, "NUMBER_TYPE_COERCE", fmt.Sprintf("Value is not %s.", te.Type)})
		}
		return m, discordError(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
	}
	if strings.TrimSpace(m.Content) == "" && len(m.Embeds) == 0 {
		return m, discordError(http.StatusBadRequest, 50006, "Cannot send an empty message")
	}
	if p := checkDiscord(m); len(p) > 0 {
		return m, formError(p...)
	}
	return m, nil
}

type formProblem struct{ path, code, message string }

func maxLen(path, s string, n int) []formProblem {
	if utf8.RuneCountInString(s) > n {
		return []formProblem{{path, "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", n)}}
	}
	return nil
}

func required(path, s string) []formProblem {
	if strings.TrimSpace(s) == "" {
		return []formProblem{{path, "BASE_TYPE_REQUIRED", "This field is required"}}
	}
	return nil
}

func wellFormedURL(path, s string) []formProblem {
	if s == "" {
		return nil
	}
	if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return []formProblem{{path, "URL_TYPE_INVALID_URL", "Not a well formed URL."}}
	}
	return nil
}

func checkDiscord(m DiscordMessage) []formProblem {
	p := maxLen("content", m.Content, DiscordMaxContent)
	p = append(p, maxLen("username", m.Username, DiscordMaxUsername)...)
	if u := strings.ToLower(m.Username); strings.Contains(u, "discord") || strings.Contains(u, "clyde") {
		p = append(p, formProblem{"username", "USERNAME_INVALID_CONTAINS", "Username cannot contain \"discord\" or \"clyde\""})
	}
	p = append(p, wellFormedURL("avatar_url", m.AvatarURL)...)
	if len(m.Embeds) > DiscordMaxEmbeds {
		p = append(p, formProblem{"embeds", "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", DiscordMaxEmbeds)})
	}
	total := 0
	for i, e := range m.Embeds {
		at := func(f string) string { return fmt.Sprintf("embeds.%d.%s", i, f) }
		p = append(p, maxLen(at("title"), e.Title, DiscordMaxTitle)...)
		p = append(p, maxLen(at("description"), e.Description, DiscordMaxDescription)...)
		p = append(p, wellFormedURL(at("url"), e.URL)...)
		total += utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
		if e.Color != nil && (*e.Color < 0 || *e.Color > 0xFFFFFF) {
			p = append(p, formProblem{at("color"), "NUMBER_TYPE_MAX", "int value should be less than or equal to 16777215."})
		}
		if e.Timestamp != "" {
			if _, err := time.Parse(time.RFC3339, e.Timestamp); err != nil {
				p = append(p, formProblem{at("timestamp"), "DATE_TIME_TYPE_PARSE", "Could not parse timestamp."})
			}
		}
		if e.Footer != nil {
			p = append(p, maxLen(at("footer.text"), e.Footer.Text, DiscordMaxFooter)...)
			total += utf8.RuneCountInString(e.Footer.Text)
		}
		if e.Author != nil {
			p = append(p, maxLen(at("author.name"), e.Author.Name, DiscordMaxAuthor)...)
			total += utf8.RuneCountInString(e.Author.Name)
		}
		if len(e.Fields) > DiscordMaxFields {
			p = append(p, formProblem{at("fields"), "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", DiscordMaxFields)})
		}
		for j, f := range e.Fields {
			fat := func(n string) string { return at(fmt.Sprintf("fields.%d.%s", j, n)) }
			p = append(p, required(fat("name"), f.Name)...)
			p = append(p, required(fat("value"), f.Value)...)
			p = append(p, maxLen(fat("name"), f.Name, DiscordMaxFieldName)...)
			p = append(p, maxLen(fat("value"), f.Value, DiscordMaxFieldValue)...)
			total += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
		}
	}
	if total > DiscordMaxEmbedTotal {
		p = append(p, formProblem{"embeds", "MAX_EMBED_SIZE_EXCEEDED", fmt.Sprintf("Embed size exceeds maximum size of %d", DiscordMaxEmbedTotal)})
	}
	return p
}

// formError is Discord's 50035 reply, its errors nested by field path:
// {"embeds":{"0":{"title":{"_errors":[{"code":…,"message":…}]}}}}.
func formError(problems ...formProblem) *Reply {
	root := map[string]any{}
	for _, pr := range problems {
		node := root
		for _, part := range strings.Split(pr.path, ".") {
			next, ok := node[part].(map[string]any)
			if !ok {
				next = map[string]any{}
				node[part] = next
			}
			node = next
		}
		errs, _ := node["_errors"].([]any)
		node["_errors"] = append(errs, map[string]string{"code": pr.code, "message": pr.message})
	}
	b, _ := json.Marshal(map[string]any{"code": 50035, "message": "Invalid Form Body", "errors": root})
	return &Reply{Status: http.StatusBadRequest, Header: jsonHeader(), Body: string(b)}
}

func discordError(status, code int, message string) *Reply {
	b, _ := json.Marshal(map[string]any{"code": code, "message": message})
	return &Reply{Status: status, Header: jsonHeader(), Body: string(b)}
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

func rateLimitHeader(h http.Header, remaining int, resetAfter time.Duration) {
	h.Set("X-RateLimit-Limit", "5")
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(resetAfter.Seconds(), 'f', 3, 64))
	reset := float64(time.Now().Add(resetAfter).UnixMilli()) / 1000
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(reset, 'f', 3, 64))
	h.Set("X-RateLimit-Bucket", "chattest-webhook")
}

func (discordService) success() Reply {
	h := http.Header{}
	rateLimitHeader(h, 4, 2*time.Second)
	return Reply{Status: http.StatusNoContent, Header: h}
}

func (discordService) failure(f Failure) Reply {
	var r Reply
	switch f.Status {
	case http.StatusTooManyRequests:
		b, _ := json.Marshal(map[string]any{"message": "You are being rate limited.", "retry_after": f.RetryAfter.Seconds(), "global": false})
		r = Reply{Status: f.Status, Header: jsonHeader(), Body: string(b)}
		rateLimitHeader(r.Header, 0, f.RetryAfter)
		r.Header.Set("X-RateLimit-Scope", "user")
	case http.StatusNotFound:
		r = *discordError(f.Status, 10015, "Unknown Webhook")
	case http.StatusUnauthorized:
		r = *discordError(f.Status, 50027, "Invalid Webhook Token")
	default:
		r = *discordError(f.Status, 0, fmt.Sprintf("%d: %s", f.Status, http.StatusText(f.Status)))
	}
	for k, vs := range failureHeader(f) {
		r.Header[k] = vs
	}
	if f.Body != "" {
		r.Body = f.Body
	}
	return r
}

func (discordService) gone() Reply {
	return *discordError(http.StatusNotFound, 10015, "Unknown Webhook")
}
