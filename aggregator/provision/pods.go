package provision

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ListedPod is a pod and the provider it is on.
type ListedPod struct {
	Provider string
	Pod
}

// podsTTL is how long a provider's pod list is reused: the pages of every
// viewer and the cost series read it, and RunPod rate-limits its API.
const podsTTL = 5 * time.Second

type podList struct {
	at   time.Time
	pods []Pod
	err  error
}

// Pods lists every provider's pods, by provider and name. A provider that
// cannot be listed is in errs; the others' pods are still there.
func (m *Manager) Pods(ctx context.Context) (pods []ListedPod, errs map[string]error) {
	errs = map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, p := range m.providers {
		wg.Go(func() {
			ps, err := m.listPods(ctx, name, p)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[name] = err
			}
			for _, pod := range ps {
				pods = append(pods, ListedPod{Provider: name, Pod: pod})
			}
		})
	}
	wg.Wait()
	slices.SortFunc(pods, func(a, b ListedPod) int {
		return cmp.Or(cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return pods, errs
}

func (m *Manager) listPods(ctx context.Context, name string, p Provider) ([]Pod, error) {
	m.listMu.Lock()
	defer m.listMu.Unlock()
	if l, ok := m.lists[name]; ok && m.opts.Now().Sub(l.at) < podsTTL {
		return l.pods, l.err
	}
	pods, err := p.List(ctx)
	m.lists[name] = podList{at: m.opts.Now(), pods: pods, err: err}
	return pods, err
}

// Action is what can be done to a running or stopped pod.
type Action string

const (
	ActionStop      Action = "stop"
	ActionResume    Action = "resume"
	ActionTerminate Action = "terminate"
)

// Act stops, resumes or terminates a pod, and forgets the cached list so
// the next page shows the change.
func (m *Manager) Act(ctx context.Context, provider, id string, a Action) error {
	p, err := m.Provider(provider)
	if err != nil {
		return err
	}
	switch a {
	case ActionStop:
		err = p.Stop(ctx, id)
	case ActionResume:
		err = p.Resume(ctx, id)
	case ActionTerminate:
		err = p.Terminate(ctx, id)
	default:
		return fmt.Errorf("provision: unknown action %q", a)
	}
	m.listMu.Lock()
	delete(m.lists, provider)
	m.listMu.Unlock()
	if err != nil {
		return fmt.Errorf("%s %s on %s: %w", a, id, provider, err)
	}
	return nil
}

// Offers lists what provider can launch.
func (m *Manager) Offers(ctx context.Context, provider string) ([]Offer, error) {
	p, err := m.Provider(provider)
	if err != nil {
		return nil, err
	}
	return p.Offers(ctx)
}
