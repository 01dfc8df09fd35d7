package provision

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/idle"
	"github.com/gpu-watchdog/gpu-watchdog/internal/audit"
	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
	"github.com/gpu-watchdog/gpu-watchdog/web/query"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

// Provisioner launches and manages pods (provision.Manager).
type Provisioner interface {
	Providers() []string
	Offers(ctx context.Context, provider string) ([]provision.Offer, error)
	Launch(ctx context.Context, r provision.Request) ([]provision.Launch, error)
	Launches() []provision.Launch
	Pods(ctx context.Context) ([]provision.ListedPod, map[string]error)
	Act(ctx context.Context, provider, id string, a provision.Action) error
}

// Page serves /provision.
type Page struct {
	// Provisioner is nil when no provider is configured: the page says how.
	Provisioner Provisioner
	Query       query.Engine
	Audit       auth.Auditor
	// PodNodes maps pod ids to the node names their agents registered
	// with, to show each pod's GPU utilisation.
	PodNodes func() map[string]string
	Version  string
	Now      func() time.Time // nil: time.Now
	// Progress is how often the page refreshes while launches are under
	// way (default 2s).
	Progress time.Duration
	// Idle shows the idle policies and what they did; nil: none configured.
	Idle IdlePolicies
}

// IdlePolicies are the idle policies in force and their actions
// (idle.Enforcer).
type IdlePolicies interface {
	Policies() []idle.Policy
	Recent(ctx context.Context) ([]idle.Record, error)
}

// Register adds the page's routes.
func (p *Page) Register(e *echo.Echo) {
	e.GET("/provision", p.serve)
	e.POST("/provision/launch", p.launch, auth.RequireAdmin)
	e.GET("/provision/pods/:provider/:id/:action", p.confirmAction, auth.RequireAdmin)
	e.POST("/provision/pods/:provider/:id/:action", p.act, auth.RequireAdmin)
}

func (p *Page) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Page) head(title string) ui.Head {
	return ui.Head{Title: title, Path: "/provision", Version: p.Version}
}

// notices are what a redirect after an action may say, by key.
var notices = map[string]string{
	"launched":  "Launch requested; follow it below.",
	"stop":      "Pod stopped.",
	"resume":    "Pod resuming.",
	"terminate": "Pod terminated.",
}

func (p *Page) serve(c echo.Context) error {
	ctx := c.Request().Context()
	v := view{Now: p.now(), Notice: notices[c.QueryParam("done")]}
	if p.Provisioner == nil {
		return ui.Render(c, http.StatusOK, page(p.head("Provision"), v))
	}
	v.Configured = true
	v.Launches = p.Provisioner.Launches()
	under := false
	for _, l := range v.Launches {
		under = under || !l.Done()
	}
	if under {
		every := p.Progress
		if every <= 0 {
			every = 2 * time.Second
		}
		c.SetRequest(c.Request().WithContext(ui.WithRefresh(ctx, every)))
		ctx = c.Request().Context()
	}
	pods, errs := p.Provisioner.Pods(ctx)
	for name, err := range errs {
		v.Errors = append(v.Errors, name+": "+err.Error())
	}
	util := p.utilisation(ctx)
	nodes := map[string]string{}
	if p.PodNodes != nil {
		nodes = p.PodNodes()
	}
	for _, pod := range pods {
		r := podRow{ListedPod: pod, Node: nodes[pod.ID]}
		r.Util, r.HasUtil = util[r.Node]
		if pod.Status == provision.StatusRunning {
			v.CostPerHour += pod.CostPerHour
			r.CostSoFar = pod.CostPerHour * pod.Uptime.Hours()
		}
		v.Pods = append(v.Pods, r)
	}
	v.IdleCost, v.HasIdleCost, _ = query.Number(ctx, p.Query, query.IdleCostPerHour, v.Now)
	if p.Idle != nil {
		v.Policies = p.Idle.Policies()
		recs, err := p.Idle.Recent(ctx)
		if err != nil {
			v.Errors = append(v.Errors, "idle policies: "+err.Error())
		}
		v.IdleActions = recs
	}
	if ui.Admin(ctx) {
		v.Form = launchForm{Cloud: string(provision.CloudAll), GPUCount: "1", Count: "1"}
		v.Offers, v.OfferErrors = p.offers(ctx)
	}
	return ui.Render(c, http.StatusOK, page(p.head("Provision"), v))
}

// utilisation is each node's mean GPU utilisation now.
func (p *Page) utilisation(ctx context.Context) map[string]float64 {
	out := map[string]float64{}
	vec, err := p.Query.Instant(ctx, `avg by (hostname) (DCGM_FI_DEV_GPU_UTIL)`, p.now())
	if err != nil {
		return out
	}
	for _, s := range vec {
		out[s.Metric.Get("hostname")] = s.F
	}
	return out
}

// offer is a GPU type on a provider, as the launch form lists it.
type offer struct {
	Provider string
	provision.Offer
}

func (o offer) Value() string { return o.Provider + "/" + o.GPUType }

func (p *Page) offers(ctx context.Context) ([]offer, []string) {
	var out []offer
	var errs []string
	for _, name := range p.Provisioner.Providers() {
		os, err := p.Provisioner.Offers(ctx, name)
		if err != nil {
			errs = append(errs, name+": "+err.Error())
			continue
		}
		for _, o := range os {
			out = append(out, offer{Provider: name, Offer: o})
		}
	}
	return out, errs
}

// launch checks the form, asks to confirm with the price, and launches
// once confirmed.
func (p *Page) launch(c echo.Context) error {
	ctx := c.Request().Context()
	f := launchForm{Offer: c.FormValue("offer"), GPUCount: c.FormValue("gpu_count"), Count: c.FormValue("count"),
		Cloud: c.FormValue("cloud"), Role: c.FormValue("role"), Name: strings.TrimSpace(c.FormValue("name"))}
	r, problems := f.request(ui.ViewerFrom(ctx).User)
	offers, offerErrs := p.offers(ctx)
	var chosen *offer
	for i := range offers {
		if offers[i].Value() == f.Offer {
			chosen = &offers[i]
		}
	}
	if chosen == nil && problems["offer"] == "" {
		problems["offer"] = "choose a GPU type from the list"
	}
	for k, msg := range r.Check() {
		if k == "gpu_type" {
			k = "offer"
		}
		if problems[k] == "" {
			problems[k] = msg
		}
	}
	if len(problems) > 0 {
		v := view{Configured: true, Now: p.now(), Form: f, Problems: problems, Offers: offers, OfferErrors: offerErrs}
		return ui.Render(c, http.StatusBadRequest, launchPage(p.head("Launch pods"), v))
	}
	if c.FormValue("confirm") != "yes" {
		price := chosen.Price(r.Cloud) * float64(r.GPUCount)
		return ui.Render(c, http.StatusOK, confirmLaunchPage(p.head("Confirm launch"), f, *chosen, r, price))
	}
	detail := fmt.Sprintf("%d × %d %s (%s, %s) on %s", r.Count, r.GPUCount, r.GPUType, r.Cloud, roleName(r.Role), r.Provider)
	err := auth.Act(c, p.Audit, audit.Entry{Action: "provision.launch", Target: r.Name, Detail: detail}, func() error {
		_, err := p.Provisioner.Launch(ctx, r)
		return err
	})
	if errors.Is(err, provision.ErrInvalid) {
		v := view{Configured: true, Now: p.now(), Form: f, Failure: err.Error(), Offers: offers, OfferErrors: offerErrs}
		return ui.Render(c, http.StatusBadRequest, launchPage(p.head("Launch pods"), v))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/provision?done=launched")
}

func roleName(r provision.Role) string {
	if r == provision.RoleNone {
		return "no Slurm"
	}
	return "Slurm " + string(r)
}

// launchForm is the form as typed.
type launchForm struct {
	Offer, GPUCount, Count, Cloud, Role, Name string
}

func (f launchForm) request(user string) (provision.Request, map[string]string) {
	problems := map[string]string{}
	prov, gpu, _ := strings.Cut(f.Offer, "/")
	r := provision.Request{Provider: prov, GPUType: gpu, Cloud: provision.Cloud(f.Cloud), Role: provision.Role(f.Role), Name: f.Name, User: user}
	var err error
	if r.GPUCount, err = strconv.Atoi(f.GPUCount); err != nil {
		problems["gpu_count"] = "a whole number of GPUs per pod"
	}
	if r.Count, err = strconv.Atoi(f.Count); err != nil {
		problems["count"] = "a whole number of pods"
	}
	return r, problems
}

// confirmAction asks before stopping, resuming or terminating a pod.
func (p *Page) confirmAction(c echo.Context) error {
	a, err := action(c)
	if err != nil {
		return err
	}
	return ui.Render(c, http.StatusOK, confirmActionPage(p.head("Confirm"), c.Param("provider"), c.Param("id"), a))
}

func (p *Page) act(c echo.Context) error {
	a, err := action(c)
	if err != nil {
		return err
	}
	prov, id := c.Param("provider"), c.Param("id")
	err = auth.Act(c, p.Audit, audit.Entry{Action: "provision." + string(a), Target: prov + "/" + id}, func() error {
		return p.Provisioner.Act(c.Request().Context(), prov, id, a)
	})
	if err != nil {
		return echo.NewHTTPError(http.StatusBadGateway, err.Error())
	}
	return c.Redirect(http.StatusSeeOther, "/provision?"+url.Values{"done": {string(a)}}.Encode())
}

func action(c echo.Context) (provision.Action, error) {
	switch a := provision.Action(c.Param("action")); a {
	case provision.ActionStop, provision.ActionResume, provision.ActionTerminate:
		return a, nil
	}
	return "", echo.NewHTTPError(http.StatusNotFound, "no such action")
}

type view struct {
	Configured  bool
	Now         time.Time
	Notice      string
	Failure     string
	Errors      []string // providers that could not be listed
	Launches    []provision.Launch
	Pods        []podRow
	CostPerHour float64
	IdleCost    float64
	HasIdleCost bool
	Policies    []idle.Policy
	IdleActions []idle.Record // the last week's, newest first
	// The launch form, for admins.
	Form        launchForm
	Problems    map[string]string
	Offers      []offer
	OfferErrors []string
}

type podRow struct {
	provision.ListedPod
	Node      string // its agent's node, once registered
	Util      float64
	HasUtil   bool
	CostSoFar float64 // since its last start
}
