package aggregator_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/runpod/runpodtest"
	"github.com/gpu-watchdog/gpu-watchdog/web/auth"
	"github.com/gpu-watchdog/gpu-watchdog/web/formtest"
)

// These tests launch RunPod pods from the dashboard against the fake
// RunPod GraphQL API (runpodtest): the real API is never called, and pods
// expose their agent's port as a public TCP port on 127.0.0.1
// (runpodtest.ExposeTCP), so nothing is scraped through RunPod's proxy
// either.

const (
	runpodToken       = "runpod-e2e-registration"
	runpodH100        = "NVIDIA H100 80GB HBM3"   // secure cloud only: $2.99
	runpodRTX4090     = "NVIDIA GeForce RTX 4090" // community $0.34, secure $0.69
	runpodNoInstances = "There are no longer any instances available with the requested specifications"
)

// runpodEnv is gpuwd with provision.runpod pointed at a fake RunPod, and a
// logged-in admin's browser that keeps every page it was given, to check
// that the API key is in none.
type runpodEnv struct {
	t    *testing.T
	fake *runpodtest.Server
	s    *aggregator.Server
	b    *formtest.Client
	key  string

	mu    sync.Mutex
	pages []string
}

func newRunPodEnv(t *testing.T, opts runpodtest.Options) *runpodEnv {
	t.Helper()
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	key := "rpa_E2ESECRET" + strings.ToUpper(hex.EncodeToString(raw))
	opts.APIKey = key
	fake := runpodtest.New(opts)
	t.Cleanup(fake.Close) // after gpuwd has stopped (cleanups run last first)
	keyFile := filepath.Join(t.TempDir(), "runpod-api-key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, `global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
registration: {token: `+runpodToken+`}
provision:
  runpod: {url: "`+fake.URL+`", api_key_file: `+keyFile+`, image: "ghcr.io/gpu-watchdog/agent:e2e", request_timeout: 3s}
`)
	e := &runpodEnv{t: t, fake: fake, s: s, b: login(t, s), key: key}
	t.Cleanup(e.checkKeyNeverShown)
	return e
}

func (e *runpodEnv) keep(doc *goquery.Document) {
	h, _ := doc.Html()
	e.mu.Lock()
	e.pages = append(e.pages, h)
	e.mu.Unlock()
}

func (e *runpodEnv) get(path string) (int, *goquery.Document) {
	e.t.Helper()
	code, doc := e.b.Get(path)
	e.keep(doc)
	return code, doc
}

func (e *runpodEnv) post(path string, form url.Values) (int, *goquery.Document) {
	e.t.Helper()
	code, doc := e.b.Post(path, form)
	e.keep(doc)
	return code, doc
}

// api GETs an API path with the admin token, into out.
func (e *runpodEnv) api(path string, out any) {
	e.t.Helper()
	token, err := os.ReadFile(filepath.Join(e.s.DataDir(), aggregator.AdminTokenFile))
	if err != nil {
		e.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, e.b.URL(path), nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	e.mu.Lock()
	e.pages = append(e.pages, string(body))
	e.mu.Unlock()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
}

type auditEntry struct{ User, Action, Target, Result, Detail string }

func (e *runpodEnv) audit(action string) []auditEntry {
	e.t.Helper()
	var out struct{ Data []auditEntry }
	e.api("/api/v1/audit?action="+url.QueryEscape(action), &out)
	return out.Data
}

func (e *runpodEnv) checkKeyNeverShown() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.pages) == 0 {
		e.t.Error("no page was fetched")
	}
	for i, p := range e.pages {
		if strings.Contains(p, e.key) {
			e.t.Errorf("page %d of %d shows the RunPod API key:\n%s", i+1, len(e.pages), p)
		}
	}
	for _, pod := range e.fake.Pods() {
		for k, v := range pod.Env {
			if strings.Contains(v, e.key) {
				e.t.Errorf("pod %s's env %s holds the RunPod API key", pod.Name, k)
			}
		}
	}
}

// launch asks for count pods of gpuType, agent only (no Slurm), from the
// form, confirmed.
func (e *runpodEnv) launch(gpuType string, count int, name string) {
	e.t.Helper()
	_, page := e.get("/provision")
	offer := "runpod/" + gpuType
	if page.Find(`[data-testid=offer] option[value="`+offer+`"]`).Length() != 1 {
		e.t.Fatalf("the launch form does not offer %s: %s", offer, formtest.Text(page, "[data-testid=launch-form]"))
	}
	form := url.Values{"offer": {offer}, "gpu_count": {"1"}, "count": {fmt.Sprint(count)}, "cloud": {"ALL"}, "role": {""},
		"name": {name}, "confirm": {"yes"}}
	if code, page := e.post("/provision/launch", form); code != http.StatusSeeOther {
		e.t.Fatalf("launching %s: %d %s", name, code, formtest.Text(page, "main"))
	}
}

// waitPage fetches /provision until done says it shows what is awaited,
// and fails the test when check finds something wrong on any page.
func (e *runpodEnv) waitPage(what string, check func(*goquery.Document) error, done func(*goquery.Document) bool) *goquery.Document {
	e.t.Helper()
	var page *goquery.Document
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		var code int
		code, page = e.get("/provision")
		if code != http.StatusOK {
			e.t.Fatalf("/provision: HTTP %d: %s", code, formtest.Text(page, "main"))
		}
		if check != nil {
			if err := check(page); err != nil {
				e.t.Fatalf("waiting for %s: %v\n%s", what, err, formtest.Text(page, "main"))
			}
		}
		if done(page) {
			return page
		}
	}
	e.t.Fatalf("the page never showed %s:\n%s", what, formtest.Text(page, "main"))
	return nil
}

// waitFakePods waits until the fake holds n pods.
func (e *runpodEnv) waitFakePods(n int) []runpodtest.Pod {
	e.t.Helper()
	var pods []runpodtest.Pod
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if pods = e.fake.Pods(); len(pods) >= n {
			return pods
		}
	}
	e.t.Fatalf("the fake has %d pods, want %d: %+v", len(pods), n, pods)
	return nil
}

// run gives a fake pod its runtime, its agent port exposed at addr.
func (e *runpodEnv) run(id, addr string) {
	e.t.Helper()
	if err := e.fake.ExposeTCP(id, 9400, addr); err != nil {
		e.t.Fatal(err)
	}
	if err := e.fake.Start(id); err != nil {
		e.t.Fatal(err)
	}
}

func launchRow(page *goquery.Document, name string) *goquery.Selection {
	return page.Find(`[data-testid=launch][data-name="` + name + `"]`)
}

// selText is the text of what q finds in sel, spaces squeezed.
func selText(sel *goquery.Selection, q string) string {
	return strings.Join(strings.Fields(sel.Find(q).Text()), " ")
}

func stageOf(page *goquery.Document, name string) string {
	s, _ := launchRow(page, name).Attr("data-stage")
	return s
}

func podRow(page *goquery.Document, name string) *goquery.Selection {
	return page.Find(`[data-testid=pod][data-name="` + name + `"]`)
}

func podStatus(page *goquery.Document, name string) string {
	s, _ := podRow(page, name).Attr("data-status")
	return s
}

// podCost is the pods table's cost per hour of the pod called name.
func podCost(page *goquery.Document, name string) string {
	return strings.TrimSpace(podRow(page, name).Find("td").Eq(6).Text())
}

// noLaunchError fails on a launch that failed or shows an error.
func noLaunchError(page *goquery.Document) error {
	var err error
	page.Find(`[data-testid=launch]`).Each(func(_ int, row *goquery.Selection) {
		name, _ := row.Attr("data-name")
		stage, _ := row.Attr("data-stage")
		if msg := strings.TrimSpace(row.Find(`[data-testid=launch-error]`).Text()); (msg != "" || stage == "failed") && err == nil {
			err = fmt.Errorf("launch %s is %s with error %q", name, stage, msg)
		}
	})
	return err
}

func freeLoopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startPodAgent runs gpuwd-agent as the pod would: with the environment
// gpuwd launched the pod with, and RUNPOD_POD_ID as RunPod sets it. The
// flags put it on addr, where the fake exposes the pod's port, and
// register it at this gpuwd's loopback address.
func (e *runpodEnv) startPodAgent(pod runpodtest.Pod, addr string) {
	e.t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GPUWD_") && !strings.HasPrefix(kv, "RUNPOD_") {
			env = append(env, kv)
		}
	}
	for k, v := range pod.Env {
		env = append(env, k+"="+v)
	}
	env = append(env, "RUNPOD_POD_ID="+pod.ID)
	cmd := exec.Command(agentBinary(e.t), "--simulate", "h100x1", "--hostname", pod.Name, "--log-format", "json",
		"--listen", addr, "--advertise-url", "http://"+addr+"/metrics", "--aggregator-url", "http://"+e.s.Addr())
	cmd.Env = env
	var log syncLog
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if e.t.Failed() {
			e.t.Logf("agent of pod %s:\n%s", pod.Name, log.String())
		}
	})
}

type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Two H100 pods are launched from the dashboard while RunPod rate-limits
// the create (429 with Retry-After), fails one (500) and times one out
// after making its pod. Each launch is retried to exactly one pod, never
// shows an error, reaches running once RunPod runs the pod, and registered
// once the agent started with the pod's environment registers; the pods
// table prices them as RunPod does.
func TestRunPodLaunchSurvivesAFlakyAPI(t *testing.T) {
	t.Parallel()
	e := newRunPodEnv(t, runpodtest.Options{ManualStart: true, RetryAfter: "1"})
	e.fake.FailNextOp(runpodtest.OpCreate, 1, http.StatusTooManyRequests)
	e.fake.FailNextOp(runpodtest.OpCreate, 1, http.StatusInternalServerError)
	e.fake.CreateTimesOutButSucceeds()

	// Unconfirmed, the form asks again with RunPod's price.
	e.get("/provision")
	form := url.Values{"offer": {"runpod/" + runpodH100}, "gpu_count": {"1"}, "count": {"2"}, "cloud": {"ALL"}, "role": {""}, "name": {"train"}}
	code, page := e.post("/provision/launch", form)
	if got := formtest.Text(page, "[data-testid=launch-price]"); code != http.StatusOK || !strings.Contains(got, "$5.98 per hour in all ($2.99 per pod)") {
		t.Errorf("the confirmation: %d, price %q", code, got)
	}
	if n := e.fake.Creates(); n != 0 {
		t.Fatalf("%d pods created before the launch was confirmed", n)
	}
	e.launch(runpodH100, 2, "train")
	names := []string{"train-1", "train-2"}

	// Both pods are made (one of them by the create that timed out); while
	// RunPod has not started them their launches wait, without error.
	pods := e.waitFakePods(2)
	e.waitPage("both launches provisioning (the timed-out create retried)", noLaunchError, func(p *goquery.Document) bool {
		return stageOf(p, "train-1") == "provisioning" && stageOf(p, "train-2") == "provisioning"
	})
	if n := e.fake.Pending(); n != 0 {
		t.Errorf("%d of the create's faults were never met", n)
	}
	addrs := map[string]string{}
	for _, pod := range pods {
		addrs[pod.ID] = freeLoopback(t)
		e.run(pod.ID, addrs[pod.ID])
	}
	page = e.waitPage("both launches running", noLaunchError, func(p *goquery.Document) bool {
		return stageOf(p, "train-1") == "running" && stageOf(p, "train-2") == "running"
	})
	for _, name := range names {
		if got := selText(launchRow(page, name), "[data-testid=stage-running]"); !strings.HasPrefix(got, "+") {
			t.Errorf("launch %s's running cell: %q", name, got)
		}
		if got := selText(launchRow(page, name), "td:nth-child(2)"); got != auth.TokenUser {
			t.Errorf("launch %s was asked for by %q, want %q", name, got, auth.TokenUser)
		}
	}

	// Exactly two pods, tagged with their launches, named as asked, with
	// what their agents need to register.
	pods = e.fake.Pods()
	if n := e.fake.Creates(); n != 2 || len(pods) != 2 {
		t.Fatalf("the fake made %d pods and holds %+v; want exactly 2", n, pods)
	}
	var got []string
	requests := map[string]bool{}
	for _, pod := range pods {
		got = append(got, pod.Name)
		requests[pod.Env["GPUWD_REQUEST_ID"]] = true
		if pod.GPUTypeID != runpodH100 || pod.GPUCount != 1 || pod.CloudType != "SECURE" || pod.ImageName != "ghcr.io/gpu-watchdog/agent:e2e" {
			t.Errorf("pod %s: %+v", pod.Name, pod)
		}
		if pod.Env["GPUWD_TOKEN"] != runpodToken || !strings.HasSuffix(pod.Env["GPUWD_AGGREGATOR_URL"], ":"+portOf(e.s.Addr())) {
			t.Errorf("pod %s's agent would not register: env %v", pod.Name, pod.Env)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, names) || len(requests) != 2 || requests[""] {
		t.Errorf("pods %v with request ids %v; want %v, one launch each", got, requests, names)
	}

	// The pods table, from the background listing: running, at RunPod's
	// price.
	page = e.waitPage("both pods RUNNING in the pods table", noLaunchError, func(p *goquery.Document) bool {
		return podStatus(p, "train-1") == "RUNNING" && podStatus(p, "train-2") == "RUNNING"
	})
	for _, pod := range pods {
		if want := fmt.Sprintf("$%.2f", pod.CostPerHr); podCost(page, pod.Name) != want || want != "$2.99" {
			t.Errorf("pod %s costs %q per hour on the page, %s at RunPod", pod.Name, podCost(page, pod.Name), want)
		}
		if id, _ := podRow(page, pod.Name).Find("td").First().Attr("title"); id != pod.ID {
			t.Errorf("pod %s's row is for pod %q, want %q", pod.Name, id, pod.ID)
		}
	}
	if got := formtest.Text(page, "[data-testid=pods-cost] [data-testid=tile-value]"); got != "$5.98" {
		t.Errorf("running pods cost %q per hour, want $5.98", got)
	}

	// The agents start in the pods, register with the pod ids, and the
	// launches are done: registered (no Slurm role).
	for _, pod := range pods {
		e.startPodAgent(pod, addrs[pod.ID])
	}
	page = e.waitPage("both launches registered", noLaunchError, func(p *goquery.Document) bool {
		return stageOf(p, "train-1") == "registered" && stageOf(p, "train-2") == "registered"
	})
	for _, name := range names {
		if got := selText(launchRow(page, name), "[data-testid=stage-slurm-idle]"); got != "n/a" {
			t.Errorf("launch %s's slurm-idle cell: %q, want n/a", name, got)
		}
	}
	// Their GPUs' utilisation shows beside them once scraped.
	e.waitPage("the pods' GPU use", nil, func(p *goquery.Document) bool {
		return strings.HasSuffix(selText(podRow(p, "train-1"), "[data-testid=pod-util]"), "%") &&
			strings.HasSuffix(selText(podRow(p, "train-2"), "[data-testid=pod-util]"), "%")
	})
	if a := e.audit("provision.launch"); len(a) != 1 || a[0].User != auth.TokenUser || a[0].Result != "ok" || a[0].Target != "train" ||
		!strings.Contains(a[0].Detail, "2 × 1 "+runpodH100) {
		t.Errorf("audit of the launch: %+v", a)
	}
}

// A create RunPod refuses (no GPUs left, said in a GraphQL error in an HTTP
// 200 reply) fails the launch at once with RunPod's words on the page,
// and makes no pod.
func TestRunPodLaunchFailsWhenSoldOut(t *testing.T) {
	t.Parallel()
	types := runpodtest.DefaultGPUTypes()
	for i := range types {
		types[i].SoldOut = types[i].ID == runpodH100
	}
	e := newRunPodEnv(t, runpodtest.Options{GPUTypes: types})
	e.launch(runpodH100, 1, "sold")
	page := e.waitPage("the launch failed", nil, func(p *goquery.Document) bool { return stageOf(p, "sold") == "failed" })
	if msg := selText(launchRow(page, "sold"), "[data-testid=launch-error]"); !strings.Contains(msg, runpodNoInstances) {
		t.Errorf("the launch's error: %q, want RunPod's %q", msg, runpodNoInstances)
	}
	for _, s := range []string{"provisioning", "running", "registered"} {
		if got := selText(launchRow(page, "sold"), "[data-testid=stage-"+s+"]"); got != "—" {
			t.Errorf("the failed launch's %s cell: %q", s, got)
		}
	}
	if n := e.fake.Creates(); n != 0 || len(e.fake.Pods()) != 0 {
		t.Errorf("the fake made %d pods, holds %+v; want none", n, e.fake.Pods())
	}
	if page.Find("[data-testid=pods-empty]").Length() != 1 {
		t.Errorf("the pods table: %s", formtest.Text(page, "[data-testid=pods]"))
	}
}

// While RunPod fails to list the pods (HTTP 500 on myself { pods }), the
// page still renders, says why, and keeps showing the pods listed last;
// once listing works again the error goes.
func TestRunPodListingFailureKeepsTheLastPods(t *testing.T) {
	t.Parallel()
	e := newRunPodEnv(t, runpodtest.Options{ManualStart: true})
	e.launch(runpodRTX4090, 1, "keep")
	pod := e.waitFakePods(1)[0]
	e.run(pod.ID, freeLoopback(t)) // no agent: the launch stays running
	e.waitPage("the pod RUNNING", noLaunchError, func(p *goquery.Document) bool {
		return podStatus(p, "keep") == "RUNNING" && stageOf(p, "keep") == "running"
	})

	e.fake.FailOp(runpodtest.OpList, http.StatusInternalServerError)
	page := e.waitPage("the listing error", noLaunchError, func(p *goquery.Document) bool {
		return p.Find("[data-testid=provider-error]").Length() > 0
	})
	if msg := formtest.Text(page, "[data-testid=provider-error]"); !strings.Contains(msg, "runpod") || !strings.Contains(msg, "list pods") ||
		!strings.Contains(msg, "HTTP 500") {
		t.Errorf("the listing error: %q", msg)
	}
	if got, want := podStatus(page, "keep"), "RUNNING"; got != want {
		t.Errorf("the last listed pod is %q on the page, want %s", got, want)
	}
	if got := podCost(page, "keep"); got != "$0.34" {
		t.Errorf("the last listed pod costs %q per hour, want $0.34 (community)", got)
	}
	if page.Find("[data-testid=launch-form]").Length() != 1 {
		t.Error("the launch form is gone while listing fails")
	}

	e.fake.FailOp(runpodtest.OpList, 0)
	e.waitPage("the listing error gone", noLaunchError, func(p *goquery.Document) bool {
		return p.Find("[data-testid=provider-error]").Length() == 0 && podStatus(p, "keep") == "RUNNING"
	})
}

// A pod is stopped and another terminated from the page: each asks to
// confirm, is done at RunPod (a 429 on the stop retried), shown, and
// audited as the admin's.
func TestRunPodStopAndTerminateFromThePage(t *testing.T) {
	t.Parallel()
	e := newRunPodEnv(t, runpodtest.Options{ManualStart: true})
	e.launch(runpodRTX4090, 2, "ops")
	for _, pod := range e.waitFakePods(2) {
		e.run(pod.ID, freeLoopback(t))
	}
	page := e.waitPage("both pods RUNNING", noLaunchError, func(p *goquery.Document) bool {
		return podStatus(p, "ops-1") == "RUNNING" && podStatus(p, "ops-2") == "RUNNING"
	})
	ids := map[string]string{}
	for _, name := range []string{"ops-1", "ops-2"} {
		ids[name], _ = podRow(page, name).Find("td").First().Attr("title")
	}
	fakePod := func(id string) (runpodtest.Pod, bool) {
		for _, p := range e.fake.Pods() {
			if p.ID == id {
				return p, true
			}
		}
		return runpodtest.Pod{}, false
	}

	// Stop ops-1.
	href, _ := podRow(page, "ops-1").Find("[data-testid=pod-stop]").Attr("href")
	if want := "/provision/pods/runpod/" + ids["ops-1"] + "/stop"; href != want {
		t.Fatalf("ops-1's stop link: %q, want %q", href, want)
	}
	code, confirm := e.get(href)
	if q := formtest.Text(confirm, "[data-testid=confirm-action]"); code != http.StatusOK || !strings.Contains(q, "Stop pod "+ids["ops-1"]+" on runpod?") {
		t.Fatalf("the stop's confirmation: %d %q", code, q)
	}
	if p, _ := fakePod(ids["ops-1"]); p.DesiredStatus != "RUNNING" {
		t.Fatalf("ops-1 is %s before the stop was confirmed", p.DesiredStatus)
	}
	e.fake.FailNextOp(runpodtest.OpStop, 1, http.StatusTooManyRequests)
	if code, page := e.post(href, url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("stopping ops-1: %d %s", code, formtest.Text(page, "main"))
	}
	if p, ok := fakePod(ids["ops-1"]); !ok || p.DesiredStatus != "EXITED" || p.Running || e.fake.Pending() != 0 {
		t.Errorf("ops-1 at RunPod after the stop (the 429 retried: %t): %+v", e.fake.Pending() == 0, p)
	}
	_, page = e.get("/provision?done=stop")
	if got := formtest.Text(page, "[data-testid=notice]"); got != "Pod stopped." {
		t.Errorf("the notice: %q", got)
	}
	if got := podStatus(page, "ops-1"); got != "EXITED" {
		t.Errorf("ops-1 is %q on the page after the stop, want EXITED", got)
	}
	if podRow(page, "ops-1").Find("[data-testid=pod-resume]").Length() != 1 {
		t.Error("the stopped pod offers no resume")
	}

	// Terminate ops-2.
	href = "/provision/pods/runpod/" + ids["ops-2"] + "/terminate"
	if code, confirm := e.get(href); code != http.StatusOK || !strings.Contains(formtest.Text(confirm, "[data-testid=confirm-action]"), "Terminate pod "+ids["ops-2"]) {
		t.Fatalf("the terminate's confirmation: %d %q", code, formtest.Text(confirm, "main"))
	}
	if code, page := e.post(href, url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("terminating ops-2: %d %s", code, formtest.Text(page, "main"))
	}
	if p, ok := fakePod(ids["ops-2"]); ok {
		t.Errorf("ops-2 is still at RunPod after the terminate: %+v", p)
	}
	_, page = e.get("/provision?done=terminate")
	if podRow(page, "ops-2").Length() != 0 || podStatus(page, "ops-1") != "EXITED" {
		t.Errorf("the pods after the terminate: %s", formtest.Text(page, "[data-testid=pods]"))
	}

	for action, name := range map[string]string{"provision.stop": "ops-1", "provision.terminate": "ops-2"} {
		a := e.audit(action)
		if len(a) != 1 || a[0].User != auth.TokenUser || a[0].Target != "runpod/"+ids[name] || a[0].Result != "ok" {
			t.Errorf("audit of %s: %+v, want one by %q of runpod/%s", action, a, auth.TokenUser, ids[name])
		}
	}
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
