package agent

import (
	"strings"
	"testing"
)

func TestCostPerHourIsExported(t *testing.T) {
	a := serve(t, Options{NVMLLibrary: "/nonexistent/libnvidia-ml.so.1", CostPerHour: 21.52})
	_, body := get(t, a.url+"/metrics")
	if !strings.Contains(body, "\ngpuwd_node_cost_per_hour_dollars 21.52\n") {
		t.Error("want gpuwd_node_cost_per_hour_dollars 21.52")
	}
	b := serve(t, Options{NVMLLibrary: "/nonexistent/libnvidia-ml.so.1"})
	if _, body := get(t, b.url+"/metrics"); strings.Contains(body, "gpuwd_node_cost_per_hour_dollars") {
		t.Error("a price nobody gave is not exported")
	}
}
