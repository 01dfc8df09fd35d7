package chattest

import (
	"fmt"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
)

// SampleAlert is a realistic GPU alert, the same for the same i: GPU i%8
// of node gpu-node-<i/8>, in Slurm job 4200+i of a user, firing since
// 2026-01-02T03:04:05Z plus i minutes (resolved an hour later when resolved).
func SampleAlert(i int, resolved bool) notify.Alert {
	node := fmt.Sprintf("gpu-node-%02d", i/8)
	gpu := fmt.Sprint(i % 8)
	labels := map[string]string{
		"alertname": "GPUOverheating",
		"severity":  []string{"critical", "warning"}[i%2],
		"node":      node,
		"instance":  node + ":9400",
		"gpu":       gpu,
		"UUID":      fmt.Sprintf("GPU-%08x-1c2d-4e5f-8a9b-0c1d2e3f4a5b", 0x5fa0b000+i),
		"modelName": "NVIDIA H100 80GB HBM3",
		"job_id":    fmt.Sprint(4200 + i),
		"user":      []string{"alice", "bob", "carol"}[i%3],
	}
	a := notify.Alert{
		Status: notify.StatusFiring,
		Labels: labels,
		Annotations: map[string]string{
			"summary":     fmt.Sprintf("GPU %s on %s is at %d °C", gpu, node, 88+i%7),
			"description": "The GPU has been above 87 °C for 5 minutes; it will throttle and may fail.",
			"value":       fmt.Sprint(88 + i%7),
		},
		StartsAt:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Minute),
		GeneratorURL: "http://gpuwd.example.com/graph?g0.expr=DCGM_FI_DEV_GPU_TEMP+%3E+87",
		Fingerprint:  notify.Fingerprint(labels),
	}
	if resolved {
		a.Status = notify.StatusResolved
		a.EndsAt = a.StartsAt.Add(time.Hour)
	}
	return a
}

// SampleMessage is a notification of firing then resolved sample alerts,
// grouped by alertname, with https://gpuwd.example.com as dashboard.
func SampleMessage(firing, resolved int) *notify.Message {
	var alerts []notify.Alert
	for i := range firing {
		alerts = append(alerts, SampleAlert(i, false))
	}
	for i := range resolved {
		alerts = append(alerts, SampleAlert(firing+i, true))
	}
	return notify.NewMessage("gpu-oncall", `{}:{alertname="GPUOverheating"}`,
		map[string]string{"alertname": "GPUOverheating"}, "https://gpuwd.example.com", alerts)
}
