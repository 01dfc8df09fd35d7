package imagetest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Two pods become a Slurm cluster from their environment alone, a job runs
// on the worker, and `docker stop` takes the worker out of the cluster.
// The worker starts first, before its head exists, as pods launched
// together may: its start must not wait for the agent, and the agent must
// wait for the head.
func TestSlurmClusterFromEnvAndCleanLeave(t *testing.T) {
	t.Parallel()
	img := need(t)
	n := newNetwork(t, img)
	headName, workerName := podName("head"), podName("worker")
	key := "GPUWD_MUNGE_KEY=" + img.mungeKey

	worker := n.startPod(t, workerName, []string{"GPUWD_SLURM_ROLE=worker", "GPUWD_SLURM_CONF_SERVER=" + headName, key})
	waitFor(t, 30*time.Second, "the worker's /start.sh to finish while its agent waits for a head", func() (bool, string) {
		return strings.Contains(worker.logs(), podReady), tail(worker.logs(), 3)
	})
	worker.waitServing(t) // GPU metrics while Slurm waits
	if status, body, err := get(worker.url(9400, "/readyz")); status != 503 || !strings.Contains(body, "Slurm") {
		t.Fatalf("a worker without its head: /readyz %d %q %v, want 503 saying why (Slurm)", status, body, err)
	}

	head := n.startPod(t, headName, []string{"GPUWD_SLURM_ROLE=head", key})
	for _, c := range []*container{head, worker} {
		waitFor(t, 90*time.Second, c.name+" to join the cluster (/readyz)", func() (bool, string) {
			status, body, err := get(c.url(9400, "/readyz"))
			return status == 200, fmt.Sprintf("%d %s%s", status, strings.TrimSpace(body), errString(err))
		})
	}
	// Slurm's own view, from the head: no SLURM_CONF needed there either.
	waitFor(t, 30*time.Second, "sinfo on the head to list the worker idle", func() (bool, string) {
		out, err := img.docker.exec(headName, 30*time.Second, "sinfo", "-h", "-N", "-o", "%N %T")
		return strings.Contains(out, workerName+" idle"), out + errString(err)
	})
	out, err := img.docker.exec(headName, time.Minute, "srun", "-N1", "-w", workerName, "hostname")
	if err != nil || strings.TrimSpace(out) != workerName {
		t.Fatalf("srun -w %s hostname on the head: %q %v", workerName, out, err)
	}

	// docker stop: SIGTERM through tini to the agent, which drains the node
	// and deletes it; the container ends before the stop timeout (30 s)
	// would have it killed.
	if _, err := img.docker.try("stop", workerName); err != nil {
		t.Fatal(err)
	}
	if code, _ := img.docker.inspect(workerName, "{{.State.ExitCode}}"); code == "137" {
		t.Errorf("the worker was killed at the stop timeout (exit 137), not stopped by its own leaving")
	}
	logs := worker.logs()
	for _, want := range []string{"left the Slurm cluster", "gpuwd-agent stopped (status 0)"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the stopped worker's log lacks %q:\n%s", want, tail(logs, 15))
		}
	}
	waitFor(t, 30*time.Second, "the head's sinfo to stop listing the worker", func() (bool, string) {
		out, err := img.docker.exec(headName, 30*time.Second, "sinfo", "-h", "-N", "-o", "%N %T")
		return err == nil && !strings.Contains(out, workerName), out + errString(err)
	})
}
