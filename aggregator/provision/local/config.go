package local

import (
	"errors"
	"log/slog"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
)

// Config configures a Provider.
type Config struct {
	// AgentBinary is the gpuwd-agent program pods run.
	AgentBinary string
	// Dir holds the provider's state: pods.json and a directory per pod.
	Dir string
	// Offers are the GPU types pods may have; GPUType must be a model the
	// agent's simulator knows (--simulate). Default: DefaultOffers.
	Offers []provision.Offer
	// Namespaces runs every pod in namespaces of its own (package nodens),
	// so pods can run Slurm. It needs root, ip, nsenter, unshare and mount.
	Namespaces bool
	Logger     *slog.Logger
}

// DefaultOffers are the simulator's GPU models at typical cloud prices per
// GPU-hour (the same in every cloud type).
var DefaultOffers = []provision.Offer{
	offer("h100", "H100 SXM", 80, 2.69),
	offer("h200", "H200 SXM", 141, 3.59),
	offer("a100", "A100 SXM", 80, 1.19),
	offer("l40s", "L40S", 48, 0.86),
	offer("l4", "L4", 24, 0.43),
	offer("rtx4090", "RTX 4090", 24, 0.69),
}

func offer(id, name string, memGB int, price float64) provision.Offer {
	return provision.Offer{GPUType: id, DisplayName: name, MemoryGB: memGB,
		SecurePrice: price, CommunityPrice: price, MaxGPUs: 8}
}

func (c *Config) check() error {
	if c.AgentBinary == "" {
		return errors.New("local provider: no agent binary")
	}
	if c.Dir == "" {
		return errors.New("local provider: no state directory")
	}
	if c.Offers == nil {
		c.Offers = DefaultOffers
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// offer returns the offer of GPU type id.
func (c *Config) offer(id string) (provision.Offer, bool) {
	for _, o := range c.Offers {
		if o.GPUType == id {
			return o, true
		}
	}
	return provision.Offer{}, false
}
