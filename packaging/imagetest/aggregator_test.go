package imagetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const registrationToken = "imagetest-registration-token"

// startAggregator runs the gpuwd image with a registration token and waits
// until it answers.
func (n *network) startAggregator(t testing.TB, name string, args ...string) *container {
	t.Helper()
	agg := n.start(t, name, n.img.gpuwd, args, "serve", "--token", registrationToken)
	waitFor(t, time.Minute, "gpuwd serve to answer /-/ready", func() (bool, string) {
		status, _, err := get(agg.url(8080, "/-/ready"))
		return status == 200, fmt.Sprint(status, errString(err))
	})
	return agg
}

// target is one entry of gpuwd's /api/v1/targets.
type target struct {
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
	Labels           map[string]string `json:"labels"`
	Health           string            `json:"health"`
	LastError        string            `json:"lastError"`
}

// targetOfPod is the aggregator's target registered with the pod id.
func targetOfPod(agg *container, podID string) (*target, error) {
	status, body, err := get(agg.url(8080, "/api/v1/targets"))
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return nil, fmt.Errorf("/api/v1/targets: HTTP %d", status)
	}
	var resp struct {
		Data struct {
			ActiveTargets []target `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		return nil, err
	}
	for _, tg := range resp.Data.ActiveTargets {
		if tg.DiscoveredLabels["__meta_gpuwd_pod_id"] == podID {
			return &tg, nil
		}
	}
	return nil, nil
}

// A pod given the aggregator's URL and token registers, and the aggregator
// scrapes it; the aggregator's image runs unprivileged and passes its own
// health check.
func TestPodRegistersWithTheAggregator(t *testing.T) {
	t.Parallel()
	img := need(t)
	n := newNetwork(t, img)
	agg := n.startAggregator(t, podName("gpuwd"), "--health-interval", "1s")
	podNm := podName("reg")
	n.startPod(t, podNm, []string{
		"GPUWD_AGGREGATOR_URL=http://" + agg.name + ":8080",
		"GPUWD_TOKEN=" + registrationToken,
		// On RunPod the agent derives its URL from RUNPOD_*: the proxy's
		// cannot be reached from here.
		"GPUWD_ADVERTISE_URL=http://" + podNm + ":9400/metrics",
	})
	waitFor(t, 90*time.Second, "the pod's target to be registered and scraped (health up)", func() (bool, string) {
		tg, err := targetOfPod(agg, podNm+"-id")
		if err != nil || tg == nil {
			return false, fmt.Sprintf("not registered%s", errString(err))
		}
		return tg.Health == "up", fmt.Sprintf("health %q %s", tg.Health, tg.LastError)
	})

	waitFor(t, 30*time.Second, "the gpuwd image's HEALTHCHECK to pass", func() (bool, string) {
		s, err := img.docker.inspect(agg.name, "{{.State.Health.Status}}")
		return s == "healthy", s + errString(err)
	})
	// Its data directory is the volume, written by the non-root user.
	if out, err := img.docker.try("cp", agg.name+":/var/lib/gpuwd/admin-token", "-"); err != nil || out == "" {
		t.Errorf("gpuwd did not write its admin token into /var/lib/gpuwd: %v", err)
	}
}

// imageConfig is the part of an image's configuration the tests check.
type imageConfig struct {
	User         string
	Env          []string
	Entrypoint   []string
	Cmd          []string
	ExposedPorts map[string]struct{}
	Volumes      map[string]struct{}
	Labels       map[string]string
	StopSignal   string
	Healthcheck  *struct{ Test []string }
}

func inspectImage(t testing.TB, img *images, name string) imageConfig {
	t.Helper()
	out, err := img.docker.try("image", "inspect", "--format", "{{json .Config}}", name)
	if err != nil {
		t.Fatal(err)
	}
	var c imageConfig
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// The images say what they are and how they run. (That they were built at
// all, with a GO_IMAGE no registry has, shows BuildKit skipped the Go stage.)
func TestImageConfiguration(t *testing.T) {
	img := need(t)
	agent := inspectImage(t, img, img.agent)
	gpuwd := inspectImage(t, img, img.gpuwd)
	for name, c := range map[string]imageConfig{"agent": agent, "gpuwd": gpuwd} {
		if c.Labels["org.opencontainers.image.version"] != img.version || c.Labels["org.opencontainers.image.revision"] != runID {
			t.Errorf("%s image: version/revision labels %q/%q, want %q/%q", name,
				c.Labels["org.opencontainers.image.version"], c.Labels["org.opencontainers.image.revision"], img.version, runID)
		}
		if c.Healthcheck == nil || len(c.Healthcheck.Test) < 2 || c.Healthcheck.Test[0] != "CMD" {
			t.Errorf("%s image: no exec-form HEALTHCHECK: %+v", name, c.Healthcheck)
		}
		if c.StopSignal != "SIGTERM" {
			t.Errorf("%s image: STOPSIGNAL %q", name, c.StopSignal)
		}
	}
	if want := []string{"/usr/bin/tini", "-g", "--", "/usr/local/bin/gpuwd-entrypoint"}; !slices.Equal(agent.Entrypoint, want) {
		t.Errorf("agent image: ENTRYPOINT %q, want %q", agent.Entrypoint, want)
	}
	if !slices.Equal(agent.Cmd, []string{"/start.sh"}) {
		t.Errorf("agent image: CMD %q, want the base's [/start.sh]", agent.Cmd)
	}
	if _, ok := agent.ExposedPorts["9400/tcp"]; !ok {
		t.Errorf("agent image: EXPOSE %v lacks 9400", agent.ExposedPorts)
	}
	if gpuwd.User == "" || strings.HasPrefix(gpuwd.User, "0") || gpuwd.User == "root" {
		t.Errorf("gpuwd image: USER %q, want a non-root user", gpuwd.User)
	}
	if _, ok := gpuwd.Volumes["/var/lib/gpuwd"]; !ok {
		t.Errorf("gpuwd image: VOLUME %v lacks /var/lib/gpuwd", gpuwd.Volumes)
	}
	if _, ok := gpuwd.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("gpuwd image: EXPOSE %v lacks 8080 (gpuwd serve's default --listen)", gpuwd.ExposedPorts)
	}
	if !slices.Contains(gpuwd.Env, "GPUWD_DATA_DIR=/var/lib/gpuwd") {
		t.Errorf("gpuwd image: ENV %q does not point --data-dir at the volume", gpuwd.Env)
	}
}
