package nodes

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gpu-watchdog/gpu-watchdog/web/query"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

// Page serves /nodes.
type Page struct {
	Query   query.Engine
	Version string
	Now     func() time.Time // nil: time.Now
	// PerPage is how many GPUs one page of the wall shows (0: 256, 32
	// nodes of 8): a fleet of 1,000 nodes is 32 pages, not one of 4 MB.
	PerPage int
}

const defaultPerPage = 256

// Register adds the page's route.
func (p *Page) Register(e *echo.Echo) { e.GET("/nodes", p.serve) }

// Filter is the wall's view, from the URL: ?node=&model=&state=&user=&sort=&page=.
type Filter struct {
	Node, Model, State, User string
	Sort                     string // state (default), node, util, temp, mem
	Page                     int    // from 1
}

// pageURL is the wall with this filter at page n.
func (f Filter) pageURL(n int) string {
	q := url.Values{}
	for k, v := range map[string]string{"node": f.Node, "model": f.Model, "state": f.State, "user": f.User, "sort": f.Sort} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if n > 1 {
		q.Set("page", strconv.Itoa(n))
	}
	if len(q) == 0 {
		return "/nodes"
	}
	return "/nodes?" + q.Encode()
}

func (p *Page) serve(c echo.Context) error {
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	q := c.QueryParams()
	f := Filter{Node: q.Get("node"), Model: q.Get("model"), State: q.Get("state"), User: q.Get("user"), Sort: q.Get("sort")}
	f.Page, _ = strconv.Atoi(q.Get("page"))
	v := view{Filter: f}
	all, partial, err := load(c.Request().Context(), p.Query, now)
	v.Err = err
	for name, e := range partial {
		if name != "info" {
			v.Partial = append(v.Partial, name+": "+e.Error())
		}
	}
	sort.Strings(v.Partial)
	v.Options = optionsOf(all)
	v.Counts = map[string]int{}
	for _, g := range all {
		v.Counts[g.State]++
	}
	v.Total = len(all)
	v.paginate(f.apply(all), cmp.Or(p.PerPage, defaultPerPage))
	return ui.Render(c, http.StatusOK, page(ui.Head{Title: "Nodes", Path: "/nodes", Version: p.Version}, v))
}

var stateRank = map[string]int{StateUnhealthy: 0, StateIdleAllocated: 1, StateBusy: 2, StateIdle: 3}

// apply keeps the GPUs the filter selects, sorted as asked.
func (f Filter) apply(gpus []GPU) []GPU {
	out := gpus[:0:0]
	for _, g := range gpus {
		if (f.Node == "" || g.Node == f.Node) && (f.Model == "" || g.Model == f.Model) &&
			(f.State == "" || g.State == f.State) && (f.User == "" || g.User == f.User) {
			out = append(out, g)
		}
	}
	byNode := func(a, b GPU) int {
		return cmp.Or(cmp.Compare(a.Node, b.Node), cmp.Compare(a.Instance, b.Instance), cmpIndex(a.Index, b.Index))
	}
	var by func(a, b GPU) int
	switch f.Sort {
	case "node":
		by = byNode
	case "util":
		by = func(a, b GPU) int { return cmp.Or(cmp.Compare(b.Util, a.Util), byNode(a, b)) }
	case "temp":
		by = func(a, b GPU) int { return cmp.Or(cmp.Compare(b.Temp, a.Temp), byNode(a, b)) }
	case "mem":
		by = func(a, b GPU) int { return cmp.Or(cmp.Compare(b.MemUsed, a.MemUsed), byNode(a, b)) }
	default:
		by = func(a, b GPU) int { return cmp.Or(cmp.Compare(stateRank[a.State], stateRank[b.State]), byNode(a, b)) }
	}
	slices.SortStableFunc(out, by)
	return out
}

// cmpIndex orders GPU indexes numerically: 2 before 10.
func cmpIndex(a, b string) int {
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return strings.Compare(a, b)
	}
	return cmp.Compare(x, y)
}

// options are the values the filters offer.
type options struct {
	Nodes, Models, Users []string
}

func optionsOf(gpus []GPU) options {
	var o options
	add := func(list *[]string, v string) {
		if v != "" && !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	for _, g := range gpus {
		add(&o.Nodes, g.Node)
		add(&o.Models, g.Model)
		add(&o.Users, g.User)
	}
	slices.Sort(o.Nodes)
	slices.Sort(o.Models)
	slices.Sort(o.Users)
	return o
}

type view struct {
	Filter  Filter
	Options options
	GPUs    []GPU // this page's
	Matched int   // GPUs the filter selects, on every page
	Pages   int
	From    int // this page's first GPU, from 1
	Total   int
	Counts  map[string]int
	Err     error    // the inventory failed: no wall
	Partial []string // other queries that failed: the wall shows without them
}

// paginate keeps the filter's page of gpus (the last page when it asks for
// one past the end).
func (v *view) paginate(gpus []GPU, perPage int) {
	v.Matched = len(gpus)
	v.Pages = max(1, (len(gpus)+perPage-1)/perPage)
	v.Filter.Page = min(max(v.Filter.Page, 1), v.Pages)
	start := (v.Filter.Page - 1) * perPage
	v.GPUs = gpus[start:min(start+perPage, len(gpus))]
	v.From = start + 1
}
