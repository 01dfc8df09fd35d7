package aggregator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/idle"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/local"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/runpod"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/munge"
	provisionpage "github.com/gpu-watchdog/gpu-watchdog/web/pages/provision"
)

// provisioning is the pods gpuwd launches: the manager, and the local
// provider to close (it runs the pods' processes).
type provisioning struct {
	m     *provision.Manager
	local *local.Provider
	watch *podWatch
	idle  *idle.Enforcer // nil: no idle policies
	// bridgeLn serves namespaced local pods on their bridge, so gpuwd
	// need not listen on every address for them; nil otherwise.
	bridgeLn net.Listener
}

// run runs the manager, the pod watch and the idle policies until ctx ends.
func (p *provisioning) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { p.m.Run(ctx) })
	wg.Go(func() { p.watch.run(ctx) })
	if p.idle != nil {
		wg.Go(func() { p.idle.Run(ctx) })
	}
	wg.Wait()
}

// openProvisioning sets up the providers the config names; nil when none.
func (s *Server) openProvisioning(ctx context.Context, cfg *config.Config) (*provisioning, error) {
	pc := cfg.Provision
	if pc.RunPod == nil && pc.Local == nil {
		return nil, nil
	}
	p := &provisioning{}
	var providers []provision.Provider
	if pc.RunPod != nil {
		rp, err := runpod.New(runpod.Config{URL: pc.RunPod.URL, APIKeyFile: pc.RunPod.APIKeyFile, Image: pc.RunPod.Image,
			ContainerDiskGB: pc.RunPod.ContainerDiskGB, VolumeGB: pc.RunPod.VolumeGB, Timeout: time.Duration(pc.RunPod.RequestTimeout),
			Logger: s.log.With("component", "runpod")})
		if err != nil {
			return nil, fmt.Errorf("provision.runpod: %w", err)
		}
		providers = append(providers, rp)
	}
	if pc.Local != nil {
		bin, err := agentBinary(pc.Local.AgentBinary)
		if err != nil {
			return nil, fmt.Errorf("provision.local: %w", err)
		}
		p.local, err = local.New(local.Config{AgentBinary: bin, Dir: cmp.Or(pc.Local.Dir, filepath.Join(s.opts.DataDir, "local-pods")),
			Namespaces: pc.Local.Namespaces, Logger: s.log.With("component", "local-pods")})
		if err != nil {
			return nil, fmt.Errorf("provision.local: %w", err)
		}
		providers = append(providers, p.local)
	}
	join, err := s.join(cfg)
	if err != nil {
		p.close()
		return nil, err
	}
	// Local pods reach this server over loopback, or, in namespaces of
	// their own, on a listener of its own on the bridge's address.
	perProvider := map[string]provision.Join{}
	if p.local != nil {
		lj := join
		lj.AggregatorURL = "http://" + loopbackAddr(s.ln.Addr())
		if pc.Local.Namespaces {
			if p.bridgeLn, err = net.Listen("tcp", net.JoinHostPort(p.local.HostAddress(), "0")); err != nil {
				p.close()
				return nil, fmt.Errorf("provision.local: listening on the pods' bridge: %w", err)
			}
			lj.AggregatorURL = "http://" + p.bridgeLn.Addr().String()
		}
		perProvider[p.local.Name()] = lj
	}
	p.m, err = provision.New(ctx, provision.Options{Providers: providers, DB: s.alerts.db, Join: join, ProviderJoin: perProvider,
		Fleet:  provisionFleet{agents: s.disc.Agents, query: s.dashQuery()},
		Logger: s.log.With("component", "provision")})
	if err != nil {
		p.close()
		return nil, err
	}
	p.watch = &podWatch{pods: p.m, disc: s.disc, query: s.dashQuery(), sink: storeSink{s.store},
		log: s.log.With("component", "provision"), every: 5 * time.Second}
	if policies := cfg.Provision.Policies(); len(policies) > 0 {
		acts := slices.ContainsFunc(policies, func(p idle.Policy) bool { return !p.DryRun })
		if acts && cfg.Alerting.ConfigFile == "" {
			s.log.Warn("idle policies will stop pods without a notice: set alerting.config_file to route GPUPodIdle to chat")
		}
		p.idle, err = idle.New(ctx, idle.Options{Policies: policies, Alerts: s.idleAlerts, Muted: s.idleMuted, Pods: p.m,
			Audit: s.audit, Notify: s.announceIdle, DB: s.alerts.db, Logger: s.log.With("component", "idle-policy")})
		if err != nil {
			p.close()
			return nil, err
		}
	}
	return p, nil
}

// join is what launched pods are started with: the config's values, else
// this server's external URL and registration token. Local pods in their
// own namespaces reach this server at the bridge's address.
func (s *Server) join(cfg *config.Config) (provision.Join, error) {
	jc := cfg.Provision.Join
	j := provision.Join{AggregatorURL: cmp.Or(jc.AggregatorURL, s.opts.ExternalURL), ConfServer: jc.SlurmConfServer,
		RegistrationToken: string(jc.RegistrationToken), MetricsToken: string(jc.MetricsToken)}
	if j.RegistrationToken == "" {
		t, err := cfg.Registration.LoadToken()
		if err != nil {
			return j, fmt.Errorf("provision: registration token: %w", err)
		}
		j.RegistrationToken = string(t)
	}
	if j.RegistrationToken == "" {
		return j, errors.New("provision: launched pods could not register: set registration.token (or provision.join.registration_token)")
	}
	key, err := jc.LoadMungeKey()
	if err != nil {
		return j, fmt.Errorf("provision.join: %w", err)
	}
	j.MungeKey = string(key)
	if j.MungeKey == "" {
		// The heads and workers gpuwd launches share a key of its own.
		if j.MungeKey, err = clusterMungeKey(s.opts.DataDir); err != nil {
			return j, fmt.Errorf("provision: the cluster's munge key: %w", err)
		}
	}
	return j, nil
}

// mungeKeyFile keeps the munge key of the Slurm cluster gpuwd launches,
// base64, when provision.join sets none.
const mungeKeyFile = "munge.key"

// clusterMungeKey reads the data directory's munge key, made on first use.
func clusterMungeKey(dir string) (string, error) {
	path := filepath.Join(dir, mungeKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		k, err := munge.ParseKey(string(b))
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		return k.Encode(), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	enc := munge.GenerateKey().Encode()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(enc+"\n"), 0o600); err != nil {
		return "", err
	}
	return enc, os.Rename(tmp, path)
}

// agentBinary is gpuwd-agent: as configured, else beside this program,
// else on $PATH.
func agentBinary(configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	if self, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(self), "gpuwd-agent"); fileExists(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath("gpuwd-agent")
	if err != nil {
		return "", errors.New("gpuwd-agent not found beside gpuwd or on $PATH: set provision.local.agent_binary")
	}
	return p, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func (p *provisioning) close() {
	if p == nil {
		return
	}
	if p.bridgeLn != nil {
		p.bridgeLn.Close()
	}
	if p.local != nil {
		p.local.Close()
	}
}

// provisioner is what the dashboard launches with; nil when nothing is
// configured (a nil *Manager in the interface would not be nil).
func (p *provisioning) provisioner() provisionpage.Provisioner {
	if p == nil {
		return nil
	}
	return p.m
}

// idlePolicies are shown on the dashboard; nil when there are none.
func (p *provisioning) idlePolicies() provisionpage.IdlePolicies {
	if p == nil || p.idle == nil {
		return nil
	}
	return p.idle
}

// podNodes maps the pod ids agents registered with to their node names.
func (s *Server) podNodes() map[string]string {
	out := map[string]string{}
	for _, a := range s.disc.Agents() {
		if a.PodID != "" {
			out[a.PodID] = a.Node
		}
	}
	return out
}
