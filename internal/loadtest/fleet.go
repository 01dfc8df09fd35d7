package loadtest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/agent"
)

// fleet is a set of simulated agents served from this process.
type fleet struct {
	targets []string // host:port of each agent
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// startFleet starts n agents with the given simulated GPUs, sampling every
// interval, each with its own seed and hostname (node-0000…).
func startFleet(n int, gpus string, interval time.Duration) (*fleet, error) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fleet{cancel: cancel}
	for i := range n {
		opts := agent.DefaultOptions()
		opts.Simulate, opts.SimulateSeed, opts.Hostname = gpus, uint64(i+1), nodeName(i)
		opts.SampleInterval = interval
		a, err := agent.New(opts, slog.New(slog.DiscardHandler))
		if err != nil {
			f.stop()
			return nil, fmt.Errorf("agent %d: %w", i, err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			a.Close()
			f.stop()
			return nil, fmt.Errorf("agent %d: %w", i, err)
		}
		f.targets = append(f.targets, ln.Addr().String())
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			_ = a.Serve(ctx, ln)
		}()
	}
	return f, nil
}

func nodeName(i int) string { return fmt.Sprintf("node-%04d", i) }

// stop ends every agent and waits for them.
func (f *fleet) stop() {
	f.cancel()
	f.wg.Wait()
}
