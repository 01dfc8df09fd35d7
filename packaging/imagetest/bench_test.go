package imagetest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkPodBootToUseful measures a worker pod from `docker run` to
// useful, stage by stage, each from the moment docker run is called:
// started (docker run has returned: the container runs), serving (the agent
// answers /metrics with GPU series), registered (the aggregator lists its
// target) and Slurm idle (its node joined the head's cluster: /readyz).
// The aggregator and the head are started before the timer.
//
//	go test ./packaging/imagetest/ -run '^$' -bench BenchmarkPodBootToUseful -benchtime 3x
func BenchmarkPodBootToUseful(b *testing.B) {
	img := need(b)
	n := newNetwork(b, img)
	seq := networks.Load() // names differ between the runs of this function
	agg := n.startAggregator(b, podName(fmt.Sprintf("b%dgpuwd", seq)))
	headName := podName(fmt.Sprintf("b%dhead", seq))
	key := "GPUWD_MUNGE_KEY=" + img.mungeKey
	head := n.startPod(b, headName, []string{"GPUWD_SLURM_ROLE=head", key})
	waitFor(b, 90*time.Second, "the head to be ready", func() (bool, string) {
		status, body, err := get(head.url(9400, "/readyz"))
		return status == 200, body + errString(err)
	})

	var started, serving, registered, idle time.Duration
	b.ResetTimer()
	for i := range b.N {
		name := podName(fmt.Sprintf("b%dw%d", seq, i))
		t0 := time.Now()
		w := n.startPod(b, name, []string{"GPUWD_SLURM_ROLE=worker", "GPUWD_SLURM_CONF_SERVER=" + headName, key,
			"GPUWD_AGGREGATOR_URL=http://" + agg.name + ":8080", "GPUWD_TOKEN=" + registrationToken,
			"GPUWD_ADVERTISE_URL=http://" + name + ":9400/metrics"})
		started += time.Since(t0)
		// The stages are watched together: each is timed when first seen.
		var tServing, tRegistered, tIdle time.Duration
		waitFor(b, 2*time.Minute, name+" to serve, register and join", func() (bool, string) {
			if tServing == 0 {
				if status, body, _ := get(w.url(9400, "/metrics")); status == 200 && strings.Contains(body, "DCGM_FI_DEV_GPU_UTIL") {
					tServing = time.Since(t0)
				}
			}
			if tRegistered == 0 {
				if tg, _ := targetOfPod(agg, name+"-id"); tg != nil {
					tRegistered = time.Since(t0)
				}
			}
			if tIdle == 0 {
				if status, _, _ := get(w.url(9400, "/readyz")); status == 200 {
					tIdle = time.Since(t0)
				}
			}
			return tServing > 0 && tRegistered > 0 && tIdle > 0,
				fmt.Sprintf("serving %v registered %v idle %v", tServing, tRegistered, tIdle)
		})
		serving += tServing
		registered += tRegistered
		idle += tIdle
		b.StopTimer()
		// Stopped, the worker leaves the cluster: the next one joins alone.
		if _, err := img.docker.try("stop", name); err != nil {
			b.Fatal(err)
		}
		_, _ = img.docker.try("rm", "-v", name)
		b.StartTimer()
	}
	per := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) }
	b.ReportMetric(per(started), "s-started")
	b.ReportMetric(per(serving), "s-serving")
	b.ReportMetric(per(registered), "s-registered")
	b.ReportMetric(per(idle), "s-slurm-idle")
}
