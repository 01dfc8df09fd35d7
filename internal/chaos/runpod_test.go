package chaos

import (
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/runpod/runpodtest"
	"github.com/gpu-watchdog/gpu-watchdog/web/formtest"
)

// login is an admin's form session with gpuwd at base, with the admin
// token gpuwd made in dataDir.
func login(t *testing.T, base, dataDir string) *formtest.Client {
	t.Helper()
	return formtest.Login(t, base, filepath.Join(dataDir, "admin-token"))
}

// launchRows are the /provision page's launches: name → stage and error.
func launchRows(doc *goquery.Document) map[string][2]string {
	out := map[string][2]string{}
	doc.Find(`tr[data-testid=launch]`).Each(func(_ int, row *goquery.Selection) {
		name, _ := row.Attr("data-name")
		stage, _ := row.Attr("data-stage")
		out[name] = [2]string{stage, strings.Join(strings.Fields(row.Find(`[data-testid=launch-error]`).Text()), " ")}
	})
	return out
}

const (
	runpodH100        = "NVIDIA H100 80GB HBM3"
	runpodNoInstances = "There are no longer any instances available with the requested specifications"
)

// TestChaosRunPodFaults launches pods through the real gpuwd's dashboard
// (logged in, the launch form) against the fake RunPod API (runpodtest),
// which fails the creates with HTTP 500, makes a pod and then holds the
// reply until gpuwd's request times out, fails a listing, and refuses a
// third launch with a GraphQL error; gpuwd is killed (SIGKILL) in the
// middle of the launches and started again. Each launch of the two asked
// for ends with exactly one pod, found again by its request id rather than
// created twice, and goes on to running and registered once RunPod runs it
// and its agent (the real binary, with the pod's environment) registers;
// the refused one ends failed with RunPod's words and no pod; the page
// shows each in a clear state, and the admin's session survives the
// restart.
func TestChaosRunPodFaults(t *testing.T) {
	dir := t.TempDir()
	key := "rpa_CHAOS" + strings.Repeat("K", 24)
	fake := runpodtest.New(runpodtest.Options{APIKey: key, ManualStart: true, RetryAfter: "1"})
	t.Cleanup(fake.Close) // after gpuwd stopped (cleanups run last first)
	writeFiles(t, dir, map[string]string{
		"runpod-key": key + "\n",
		"gpuwd.yml": `global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
registration: {token: ` + agentToken + `}
provision:
  runpod: {url: "` + fake.URL + `", api_key_file: ` + filepath.Join(dir, "runpod-key") + `, image: "ghcr.io/gpu-watchdog/agent:chaos", request_timeout: 2s}
`})
	data := filepath.Join(dir, "data")
	addr := freeAddr(t)
	serve := []string{"serve", "--listen", addr, "--config", filepath.Join(dir, "gpuwd.yml"), "--data-dir", data}
	srv := launch(t, gpuwdBin, serve...)
	b := login(t, srv.url(""), data)

	fake.FailNextOp(runpodtest.OpCreate, 2, http.StatusInternalServerError)
	fake.CreateTimesOutButSucceeds()
	b.Get("/provision")
	form := url.Values{"offer": {"runpod/" + runpodH100}, "gpu_count": {"1"}, "count": {"2"}, "cloud": {"ALL"}, "role": {""}, "name": {"train"}, "confirm": {"yes"}}
	if code, page := b.Post("/provision/launch", form); code != http.StatusSeeOther {
		t.Fatalf("launching: %d %s", code, formtest.Text(page, "main"))
	}
	// Kill gpuwd as soon as RunPod has made a pod: one reply still held,
	// or the launches not yet recorded as provisioning.
	eventually(t, 30*time.Second, "RunPod making a pod", func() bool { return fake.Creates() >= 1 })
	var stages []string
	for _, r := range launchRows(mustPage(t, b)) {
		stages = append(stages, r[0])
	}
	srv.stop(t, syscall.SIGKILL)
	slices.Sort(stages)
	fake.FailNextOp(runpodtest.OpList, 1, http.StatusInternalServerError) // the lookup after the restart fails once
	restarted := time.Now()
	srv = launch(t, gpuwdBin, serve...)
	b.Rebase(srv.url(""))

	var pods []runpodtest.Pod
	eventually(t, 60*time.Second, "both launches provisioning", func() bool {
		rows := launchRows(mustPage(t, b))
		return rows["train-1"][0] == "provisioning" && rows["train-2"][0] == "provisioning"
	})
	provisioning := time.Since(restarted)
	if pods = fake.Pods(); len(pods) != 2 || fake.Creates() != 2 {
		t.Fatalf("RunPod made %d pods and holds %+v; want exactly 2", fake.Creates(), pods)
	}
	requests := map[string]bool{}
	for _, p := range pods {
		requests[p.Env["GPUWD_REQUEST_ID"]] = true
	}
	if len(requests) != 2 || requests[""] {
		t.Fatalf("pods' request ids %v: want one pod per launch", requests)
	}

	// A third launch RunPod refuses.
	fake.GraphQLErrorNextOp(runpodtest.OpCreate, runpodNoInstances)
	form.Set("name", "sold")
	form.Set("count", "1")
	if code, page := b.Post("/provision/launch", form); code != http.StatusSeeOther {
		t.Fatalf("launching: %d %s", code, formtest.Text(page, "main"))
	}

	// RunPod runs the two pods; their agents start with the pods' env.
	for _, p := range pods {
		podAddr := freeAddr(t)
		if err := fake.ExposeTCP(p.ID, 9400, podAddr); err != nil {
			t.Fatal(err)
		}
		if err := fake.Start(p.ID); err != nil {
			t.Fatal(err)
		}
		var env []string
		for k, v := range p.Env {
			env = append(env, k+"="+v)
		}
		launchCmd(t, append(env, "RUNPOD_POD_ID="+p.ID), []string{agentBin, "--simulate", "h100x1", "--hostname", p.Name, "--log-format", "json",
			"--listen", podAddr, "--advertise-url", "http://" + podAddr + "/metrics", "--aggregator-url", srv.url("")})
	}
	var rows map[string][2]string
	eventually(t, 60*time.Second, "both launches registered and the third failed", func() bool {
		rows = launchRows(mustPage(t, b))
		return rows["train-1"][0] == "registered" && rows["train-2"][0] == "registered" && rows["sold"][0] == "failed"
	})
	for _, name := range []string{"train-1", "train-2"} {
		if rows[name][1] != "" {
			t.Errorf("launch %s is registered but shows the error %q", name, rows[name][1])
		}
	}
	if !strings.Contains(rows["sold"][1], runpodNoInstances) {
		t.Errorf("the refused launch's error: %q, want RunPod's %q", rows["sold"][1], runpodNoInstances)
	}
	if n := len(fake.Pods()); n != 2 || fake.Creates() != 2 || fake.Pending() != 0 {
		t.Errorf("at the end RunPod made %d pods, holds %d, and %d injected faults were never met; want 2, 2, 0", fake.Creates(), n, fake.Pending())
	}
	if len(rows) != 3 {
		t.Errorf("the page lists %d launches, want 3: %v", len(rows), rows)
	}
	summary(t, "RunPod API faults", "2 launches through the dashboard against 500, 500, a create that made its pod but timed out, a failed listing, and a kill -9 "+
		"of gpuwd mid-launch (launches then %v): exactly 2 pods (%d API requests), both provisioning %.1f s after the restart, then running and registered; "+
		"a third launch refused by RunPod ended failed with its message and no pod; the session survived the restart",
		stages, fake.Requests(), provisioning.Seconds())
}

// mustPage fetches /provision, which must render.
func mustPage(t *testing.T, b *formtest.Client) *goquery.Document {
	t.Helper()
	code, page := b.Get("/provision")
	if code != http.StatusOK {
		t.Fatalf("/provision: HTTP %d: %s", code, formtest.Text(page, "main"))
	}
	return page
}
