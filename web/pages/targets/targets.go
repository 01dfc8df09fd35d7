package targets

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

// Target is one scraped endpoint as the page shows it.
type Target struct {
	Job          string
	Instance     string
	URL          string
	Health       string // up, down or unknown
	LastError    string
	LastScrape   time.Time
	LastDuration time.Duration
	Interval     time.Duration
}

// Source lists the targets being scraped.
type Source interface {
	Targets() []Target
}

// Page serves /targets.
type Page struct {
	Source  Source
	Version string
	Now     func() time.Time // nil: time.Now
}

// Register adds the page's route.
func (p *Page) Register(e *echo.Echo) { e.GET("/targets", p.serve) }

func (p *Page) serve(c echo.Context) error {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	ts := p.Source.Targets()
	sortWorstFirst(ts)
	v := view{Targets: ts, Now: now()}
	for _, t := range ts {
		v.Jobs = appendOnce(v.Jobs, t.Job)
		switch t.Health {
		case "up":
			v.Up++
		case "down":
			v.Down++
		}
	}
	return ui.Render(c, http.StatusOK, page(ui.Head{Title: "Targets", Path: "/targets", Version: p.Version}, v))
}

type view struct {
	Targets  []Target
	Jobs     []string
	Up, Down int
	Now      time.Time
}

var healthRank = map[string]int{"down": 0, "unknown": 1, "up": 2}

// sortWorstFirst: down, then not yet scraped, then up; by job and instance.
func sortWorstFirst(ts []Target) {
	slices.SortStableFunc(ts, func(a, b Target) int {
		return cmp.Or(cmp.Compare(healthRank[a.Health], healthRank[b.Health]),
			cmp.Compare(a.Job, b.Job), cmp.Compare(a.Instance, b.Instance))
	})
}

func appendOnce(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// ago says how long before now t was, as a person reads it.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return d.Round(time.Second).String() + " ago"
	case d < time.Hour:
		return d.Round(time.Minute).String() + " ago"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func millis(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return d.Round(100 * time.Microsecond).String()
}
