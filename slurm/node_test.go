package slurm

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/munge"
)

func workerOptions() Options {
	o := DefaultOptions()
	o.Role, o.ConfServer, o.MungeKey = RoleWorker, "10.0.0.1", munge.GenerateKey().Encode()
	return o
}

func TestOptionsCheckSaysWhatIsMissing(t *testing.T) {
	o := DefaultOptions()
	o.Role = RoleWorker
	err := o.Check()
	if err == nil || !strings.Contains(err.Error(), "--slurm-conf-server") || !strings.Contains(err.Error(), "munge key") {
		t.Fatalf("a worker without conf server or key: %v", err)
	}
	o = workerOptions()
	o.MungeKey = "c2hvcnQ=" // "short"
	if err := o.Check(); err == nil || !strings.Contains(err.Error(), "5 bytes") || strings.Contains(err.Error(), "c2hvcnQ") {
		t.Errorf("a short key: %v", err)
	}
	o = workerOptions()
	o.ConfServer, o.NodeName, o.StateDir = "head:port", "bad name", "relative"
	err = o.Check()
	for _, want := range []string{"--slurm-conf-server", "--slurm-node-name", "--slurm-state-dir"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
	if err := DefaultOptions().Check(); err != nil {
		t.Errorf("role none: %v", err)
	}
}

// A node without Slurm installed says so once and keeps out of the way.
func TestMissingSlurmIsOneClearError(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := sbinDirs
	sbinDirs = nil
	defer func() { sbinDirs = saved }()
	var log bytes.Buffer
	n, err := New(workerOptions(), nil, "w1.example", slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if n.Name() != "w1" {
		t.Errorf("node name %q, want the short hostname", n.Name())
	}
	n.Start(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, why := n.Ready()
		if strings.Contains(why, "not installed") {
			if ok {
				t.Error("ready without Slurm")
			}
			for _, p := range []string{"munged", "slurmd", "scontrol", "sinfo", "squeue"} {
				if !strings.Contains(why, p) {
					t.Errorf("the error does not name %s: %s", p, why)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ready = %v, %q", ok, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
	n.Stop()
	if got := strings.Count(log.String(), "level=ERROR"); got != 1 {
		t.Errorf("%d error lines, want 1:\n%s", got, log.String())
	}
}

func TestUsableStates(t *testing.T) {
	for state, want := range map[string]bool{"idle": true, "mixed": true, "allocated": true, "completing": true,
		"idle*": false, "drained": false, "draining": false, "down*": false, "inval": false, "": false} {
		if usable(state) != want {
			t.Errorf("usable(%q) = %v", state, !want)
		}
	}
}

func TestHeadUsesRunPodGlobalNetworkingAddress(t *testing.T) {
	resolver := func(addrs ...string) func(context.Context, string) ([]net.IPAddr, error) {
		return func(_ context.Context, host string) ([]net.IPAddr, error) {
			if host != "abc123xyz.runpod.internal" {
				return nil, fmt.Errorf("lookup %s: no such host", host)
			}
			var out []net.IPAddr
			for _, a := range addrs {
				out = append(out, net.IPAddr{IP: net.ParseIP(a)})
			}
			return out, nil
		}
	}
	for _, c := range []struct {
		pod   string
		addrs []string
		want  string
	}{
		{"abc123xyz", []string{"fd00::1", "10.65.0.7"}, "10.65.0.7"},
		{"abc123xyz", []string{"127.0.0.1"}, ""}, // not an address others reach
		{"otherpod", []string{"10.65.0.7"}, ""},  // no global networking: the name does not resolve
		{"", []string{"10.65.0.7"}, ""},          // not on RunPod
		{"bad/id", []string{"10.65.0.7"}, ""},
	} {
		if got := runPodPrivateIP(context.Background(), c.pod, resolver(c.addrs...)); got != c.want {
			t.Errorf("pod %q resolving to %v: got %q, want %q", c.pod, c.addrs, got, c.want)
		}
	}
}
