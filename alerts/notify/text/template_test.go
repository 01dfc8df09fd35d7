package text

import (
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
)

func TestTemplates(t *testing.T) {
	m := chattest.SampleMessage(2, 0)
	for _, tc := range []struct{ src, want string }{
		{`{{ .Status | toUpper }} {{ .CommonLabels.alertname | toLower }}`, "FIRING gpuoverheating"},
		{`{{ title "gpu node_down" }}`, "Gpu Node_Down"},
		{`{{ range .Alerts }}{{ node .Labels }}/{{ .Labels.gpu }} {{ end }}`, "gpu-node-00/0 gpu-node-00/1"},
		{`{{ with index .Alerts 0 }}{{ (alert $ .).GPUText }}{{ end }}`, "0 · NVIDIA H100 80GB HBM3 · GPU-5fa0b000-1c2d-4e5f-8a9b-0c1d2e3f4a5b"},
		{`{{ with index .Alerts 0 }}{{ date .StartsAt }} {{ $.Link . }}{{ end }}`, "2026-01-02 03:04:05 UTC https://gpuwd.example.com/nodes/gpu-node-00"},
		{`{{ .CommonLabels.nosuchlabel }}x`, "x"}, // missing keys are empty, not "<no value>"
		{`{{ truncate 5 .Title }}`, "[FIR…"},
		{`{{ join ", " (slice (split .Title " ") 0 1) }}`, ""},
		{`  {{ trimSpace "  padded  " }}  `, "padded"},
	} {
		tmpl, err := Parse("t", tc.src)
		if tc.want == "" { // not a valid template: a Validate error
			if err == nil {
				t.Errorf("%s: parsed", tc.src)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		got, err := tmpl.Execute(m)
		if err != nil || got != tc.want {
			t.Errorf("%s = %q, %v; want %q", tc.src, got, err, tc.want)
		}
	}
}

func TestRenderFallsBack(t *testing.T) {
	m := chattest.SampleMessage(1, 0)
	if tmpl, err := Parse("t", "   "); tmpl != nil || err != nil {
		t.Errorf("a blank template: %v, %v; want none", tmpl, err)
	}
	if got, err := Render(nil, m, "default"); got != "default" || err != nil {
		t.Errorf("no template: %q %v", got, err)
	}
	fails, err := Parse("title", `{{ index .Alerts 5 }}`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Render(fails, m, "default")
	if got != "default" || err == nil || !strings.Contains(err.Error(), "title") {
		t.Errorf("failing template: %q, %v; want the default and the error", got, err)
	}
	empty, _ := Parse("t", `{{ if false }}x{{ end }}`)
	if got, err := Render(empty, m, "default"); got != "default" || err != nil {
		t.Errorf("empty output: %q %v; want the default", got, err)
	}
	huge, _ := Parse("t", `{{ range .Alerts }}{{ range $i, $_ := .Labels }}{{ printf "%01000000d" 0 }}{{ end }}{{ end }}`)
	if got, err := Render(huge, m, "default"); got != "default" || err == nil {
		t.Errorf("runaway output: %d bytes, %v; want the default and an error", len(got), err)
	}
}
