package imagetest

import (
	"encoding/json"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/agent"
	"github.com/gpu-watchdog/gpu-watchdog/internal/cli"
)

// imageVariables are the image's own settings (gpuwd-supervise, the hook,
// the health check), which the agent ignores.
var imageVariables = []string{"GPUWD_AGENT_AUTOSTART", "GPUWD_AGENT_LOG", "GPUWD_AGENT_LOG_MAX_BYTES",
	"GPUWD_AGENT_BIN", "GPUWD_AGENT_RUN_DIR"}

// agentVariables is every GPUWD_* variable the agent reads: one per flag.
func agentVariables() map[string]bool {
	fs := flag.NewFlagSet("gpuwd-agent", flag.ContinueOnError)
	opts := agent.DefaultOptions()
	opts.RegisterFlags(fs)
	fs.String("log-format", "", "") // the main's own flags
	fs.String("log-level", "", "")
	names := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { names[cli.EnvName("GPUWD_", f.Name)] = true })
	for _, v := range imageVariables {
		names[v] = true
	}
	return names
}

// otherNames are GPUWD_* names the docs may use that no agent reads: a
// build argument, build-base.sh's cache, gpuwd query's --server.
var otherNames = map[string]bool{"GPUWD_FROM": true, "GPUWD_BASE_CACHE": true, "GPUWD_SERVER": true}

var (
	secretRef   = regexp.MustCompile(`^\{\{ RUNPOD_SECRET_[A-Za-z0-9_]+ \}\}$`)
	envMentions = regexp.MustCompile(`GPUWD_[A-Z0-9_]*[A-Z0-9]`)
)

// The template is a saveTemplate request whose environment the agent
// understands, with its secrets as RunPod secret references; the README
// names only variables that exist.
func TestRunPodTemplate(t *testing.T) {
	raw, err := os.ReadFile(repoPath(t, "runpod-template/template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		Query     string `json:"query"`
		Variables struct {
			Input struct {
				Name              string `json:"name"`
				ImageName         string `json:"imageName"`
				Ports             string `json:"ports"`
				ContainerDiskInGb int    `json:"containerDiskInGb"`
				Env               []struct{ Key, Value string }
			} `json:"input"`
		} `json:"variables"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatalf("template.json: %v", err)
	}
	in := req.Variables.Input
	if !strings.Contains(req.Query, "saveTemplate(input: $input)") {
		t.Errorf("the query is not a saveTemplate mutation: %s", req.Query)
	}
	if in.Name == "" || in.ImageName == "" || in.ContainerDiskInGb < 10 {
		t.Errorf("name %q, imageName %q, containerDiskInGb %d", in.Name, in.ImageName, in.ContainerDiskInGb)
	}
	if !strings.Contains(","+in.Ports+",", ",9400/http,") {
		t.Errorf("ports %q do not expose the agent's 9400/http", in.Ports)
	}
	known := agentVariables()
	env := map[string]string{}
	for _, e := range in.Env {
		env[e.Key] = e.Value
		if strings.HasPrefix(e.Key, "GPUWD_") && !known[e.Key] {
			t.Errorf("env %s is no flag of gpuwd-agent", e.Key)
		}
	}
	for _, secret := range []string{"GPUWD_TOKEN", "GPUWD_METRICS_TOKEN", "GPUWD_MUNGE_KEY"} {
		if !secretRef.MatchString(env[secret]) {
			t.Errorf("env %s = %q: want a RunPod secret reference {{ RUNPOD_SECRET_name }}", secret, env[secret])
		}
	}
	for _, doc := range []string{"runpod-template/README.md", "packaging/image/README.md"} {
		b, err := os.ReadFile(repoPath(t, doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range envMentions.FindAllString(string(b), -1) {
			if !known[name] && !otherNames[name] {
				t.Errorf("%s names %s, which nothing reads", doc, name)
			}
		}
	}
}
