package imagetest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// networks numbers the networks of a run.
var networks atomic.Int32

// network is a Docker network of one test: its containers find each other
// by name, as pods of one RunPod cluster (global networking) do.
type network struct {
	img  *images
	name string
}

// newNetwork makes a network; the test's cleanup removes it with its
// containers, and prints their logs when the test failed.
func newNetwork(t testing.TB, img *images) *network {
	t.Helper()
	n := &network{img: img, name: fmt.Sprintf("gpuwd-imagetest-%s-%d", runID, networks.Add(1))}
	if _, err := img.docker.try(append(append([]string{"network", "create"}, labelArgs()...), n.name)...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := img.docker.try("network", "rm", n.name); err != nil {
			t.Logf("removing network: %v", err)
		}
	})
	return n
}

// container is one running container on a network.
type container struct {
	net  *network
	name string // also its hostname, so the Slurm node name
	ip   string
}

// podEnv is what RunPod gives every pod, and the simulated GPUs.
func podEnv(name string) []string {
	return []string{
		"RUNPOD_POD_ID=" + name + "-id",
		"RUNPOD_POD_HOSTNAME=" + name,
		"RUNPOD_DC_ID=imagetest",
		"RUNPOD_GPU_COUNT=2",
		"RUNPOD_CPU_COUNT=2",
		"PUBLIC_KEY=",
		"GPUWD_SIMULATE=h100x2",
	}
}

// startPod starts the agent image as RunPod starts a pod: its own command
// (/start.sh), RUNPOD_* and the given GPUWD_* environment, and two GPUs:
// simulated in the agent, with device files for Slurm (clones of
// /dev/null, as nvidiaN files are for the node). extra goes to docker run.
func (n *network) startPod(t testing.TB, name string, env []string, extra ...string) *container {
	t.Helper()
	args := []string{"--device", "/dev/null:/dev/nvidia0", "--device", "/dev/null:/dev/nvidia1",
		"--stop-timeout", "30"}
	for _, e := range append(podEnv(name), env...) {
		args = append(args, "-e", e)
	}
	return n.start(t, name, n.img.agent, append(args, extra...))
}

// start runs image detached as name; cleanup removes it.
func (n *network) start(t testing.TB, name, image string, args []string, cmd ...string) *container {
	t.Helper()
	c := &container{net: n, name: name}
	run := append([]string{"run", "-d", "--name", name, "--hostname", name, "--network", n.name}, labelArgs()...)
	run = append(append(append(run, args...), image), cmd...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- docker logs %s ---\n%s", name, tail(n.img.docker.logs(name), 60))
		}
		_, _ = n.img.docker.try("rm", "-f", "-v", name)
	})
	if _, err := n.img.docker.try(run...); err != nil {
		t.Fatal(err)
	}
	ip, err := n.img.docker.inspect(name, `{{(index .NetworkSettings.Networks "`+n.name+`").IPAddress}}`)
	if err != nil || ip == "" {
		t.Fatalf("address of %s: %q %v", name, ip, err)
	}
	c.ip = ip
	return c
}

// url is an address of the container, reached from this machine.
func (c *container) url(port int, path string) string {
	return fmt.Sprintf("http://%s:%d%s", c.ip, port, path)
}

func (c *container) logs() string { return c.net.img.docker.logs(c.name) }

// get fetches a URL: its status and body, or an error.
func get(url string) (int, string, error) {
	client := http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitFor polls cond until it holds, or fails the test after limit saying
// what it waited for and the last thing cond reported.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; last: %s", limit, what, detail)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// serving waits until the agent in c answers /metrics with GPU series.
func (c *container) waitServing(t testing.TB) {
	t.Helper()
	waitFor(t, time.Minute, c.name+"'s agent to serve GPU metrics on :9400", func() (bool, string) {
		status, body, err := get(c.url(9400, "/metrics"))
		if err != nil {
			return false, err.Error()
		}
		return status == 200 && strings.Contains(body, "DCGM_FI_DEV_GPU_UTIL"), fmt.Sprintf("HTTP %d", status)
	})
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
