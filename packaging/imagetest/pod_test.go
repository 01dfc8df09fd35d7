package imagetest

import (
	"strings"
	"testing"
	"time"
)

// The container log lines the tests look for: RunPod's /start.sh (as
// runpod-start.sh reproduces it), the supervisor, the agent.
const (
	podReady      = "Start script(s) finished, Pod is ready to use."
	agentServing  = `"msg":"serving"`
	superRestarts = "restarting in 1s"
)

// A pod boots into a serving agent, its log reaches the container log and
// a capped file, the health check passes, and a killed agent comes back.
func TestPodBootsAndKeepsTheAgentRunning(t *testing.T) {
	t.Parallel()
	img := need(t)
	n := newNetwork(t, img)
	// A log cap small enough that this test's lines pass it.
	pod := n.startPod(t, podName("boot"), []string{"GPUWD_AGENT_LOG_MAX_BYTES=600"}, "--health-interval", "1s")

	waitFor(t, 30*time.Second, "/start.sh to reach its keep-alive step", func() (bool, string) {
		return strings.Contains(pod.logs(), podReady), tail(pod.logs(), 3)
	})
	pod.waitServing(t)
	_, metrics, _ := get(pod.url(9400, "/metrics"))
	if want := `version="` + binaryVersion + `"`; !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks gpuwd_build_info{%s}: the image does not run the binary built here", want)
	}
	_, node, _ := get(pod.url(9400, "/api/v1/node"))
	if !strings.Contains(node, pod.name+"-id") {
		t.Errorf("/api/v1/node does not carry RUNPOD_POD_ID %s-id: %s", pod.name, node)
	}
	if !strings.Contains(pod.logs(), agentServing) {
		t.Error("the agent's log is not in the container log (PID 1's stdout)")
	}
	waitFor(t, 30*time.Second, "the image's HEALTHCHECK to pass", func() (bool, string) {
		s, err := img.docker.inspect(pod.name, "{{.State.Health.Status}}")
		return s == "healthy", s + errString(err)
	})

	// kill -9: the supervisor starts the agent again.
	before := agentPID(t, pod)
	if _, err := img.docker.exec(pod.name, 10*time.Second, "pkill", "-9", "-f", "gpuwd-agent"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the killed agent to be restarted and serve again", func() (bool, string) {
		after := agentPID(t, pod)
		status, _, err := get(pod.url(9400, "/healthz"))
		return after != before && after != "" && status == 200, "pid " + after + errString(err)
	})
	if logs := pod.logs(); !strings.Contains(logs, superRestarts) {
		t.Errorf("the supervisor did not say it restarted the agent:\n%s", tail(logs, 10))
	}

	// The file has the same lines, and was rotated at the cap.
	file, err := img.docker.exec(pod.name, 10*time.Second, "cat", "/var/log/gpuwd-agent.log.1", "/var/log/gpuwd-agent.log")
	if err != nil {
		t.Fatalf("the log file was not rotated at GPUWD_AGENT_LOG_MAX_BYTES: %v", err)
	}
	if !strings.Contains(file, agentServing) || !strings.Contains(file, superRestarts) {
		t.Errorf("/var/log/gpuwd-agent.log{,.1} lack the agent's and the supervisor's lines:\n%s", file)
	}
	size, _ := img.docker.exec(pod.name, 10*time.Second, "stat", "-c", "%s", "/var/log/gpuwd-agent.log.1")
	if size == "" || len(size) > 4 { // about 600 bytes, not the whole log
		t.Errorf("rotated file is %s bytes with a cap of 600", size)
	}
}

// A pod whose GPUWD_* settings are wrong says why once, clearly, in the
// container log, and the container keeps running (the pod's other services
// with it) while the supervisor retries slowly.
func TestMissingSettingIsSaidOnceAndThePodStaysUp(t *testing.T) {
	t.Parallel()
	img := need(t)
	n := newNetwork(t, img)
	// A worker without GPUWD_SLURM_CONF_SERVER.
	pod := n.startPod(t, podName("noconf"), []string{"GPUWD_SLURM_ROLE=worker", "GPUWD_MUNGE_KEY=" + img.mungeKey})
	waitFor(t, 30*time.Second, "the supervisor to report the failed start", func() (bool, string) {
		return strings.Contains(pod.logs(), "gpuwd-agent could not start"), tail(pod.logs(), 3)
	})
	logs := pod.logs()
	if c := strings.Count(logs, "needs --slurm-conf-server"); c != 1 {
		t.Errorf("the agent's reason appears %d times, want once:\n%s", c, logs)
	}
	if c := strings.Count(logs, "gpuwd-agent could not start"); c != 1 {
		t.Errorf("the supervisor's explanation appears %d times, want once:\n%s", c, logs)
	}
	if !strings.Contains(logs, "GPUWD_* environment") {
		t.Errorf("the explanation does not point at the pod's GPUWD_* environment:\n%s", logs)
	}
	if !strings.Contains(logs, podReady) {
		t.Errorf("the pod's start did not finish:\n%s", logs)
	}
	if s, err := img.docker.inspect(pod.name, "{{.State.Running}}"); s != "true" {
		t.Errorf("the container stopped (running=%s %v)", s, err)
	}
	if _, err := img.docker.exec(pod.name, 10*time.Second, "sh", "-c", `kill -0 "$(cat /run/gpuwd-agent/supervise.pid)"`); err != nil {
		t.Errorf("the supervisor is not running, so the agent will not be retried: %v", err)
	}
}

func agentPID(t testing.TB, c *container) string {
	t.Helper()
	pid, _ := c.net.img.docker.exec(c.name, 10*time.Second, "cat", "/run/gpuwd-agent/agent.pid")
	return pid
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}
