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

// listEvery is how often the providers' pods are listed, in the
// background: pages read the last list, and never wait on a provider's API
// (RunPod's may take its retries' time).
const listEvery = 5 * time.Second

// offersTTL is how long a provider's GPU types and prices are reused.
const offersTTL = 10 * time.Minute

type podList struct {
	at   time.Time
	pods []Pod
	err  error
}

type offerList struct {
	at     time.Time
	offers []Offer
}

// Pods lists every provider's pods as last listed, by provider and name. A
// provider whose last listing failed is in errs; the others' pods are
// still there.
func (m *Manager) Pods(context.Context) (pods []ListedPod, errs map[string]error) {
	errs = map[string]error{}
	m.listMu.Lock()
	defer m.listMu.Unlock()
	for name, l := range m.lists {
		if l.err != nil {
			errs[name] = l.err
		}
		for _, pod := range l.pods {
			pods = append(pods, ListedPod{Provider: name, Pod: pod})
		}
	}
	slices.SortFunc(pods, func(a, b ListedPod) int {
		return cmp.Or(cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return pods, errs
}

// listAll lists every provider's pods now, concurrently.
func (m *Manager) listAll(ctx context.Context) {
	var wg sync.WaitGroup
	for name := range m.providers {
		wg.Go(func() { m.list(ctx, name) })
	}
	wg.Wait()
}

func (m *Manager) list(ctx context.Context, name string) {
	pods, err := m.providers[name].List(ctx)
	if ctx.Err() != nil {
		return // shutting down: keep the last list
	}
	m.listMu.Lock()
	defer m.listMu.Unlock()
	if err != nil {
		// Keep showing the last pods, with the error beside them.
		l := m.lists[name]
		l.err = err
		m.lists[name] = l
		return
	}
	m.lists[name] = podList{at: m.opts.Now(), pods: pods}
}

// lister lists the pods every listEvery until ctx ends.
func (m *Manager) lister(ctx context.Context) {
	t := time.NewTicker(listEvery)
	defer t.Stop()
	for {
		m.listAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Action is what can be done to a running or stopped pod.
type Action string

const (
	ActionStop      Action = "stop"
	ActionResume    Action = "resume"
	ActionTerminate Action = "terminate"
)

// Act stops, resumes or terminates a pod.
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
	// Listed again at once, so the page after the action shows it.
	m.list(ctx, provider)
	if err != nil {
		return fmt.Errorf("%s %s on %s: %w", a, id, provider, err)
	}
	return nil
}

// Offers lists what provider can launch, asked of it at most every
// offersTTL.
func (m *Manager) Offers(ctx context.Context, provider string) ([]Offer, error) {
	p, err := m.Provider(provider)
	if err != nil {
		return nil, err
	}
	m.listMu.Lock()
	o, ok := m.offers[provider]
	m.listMu.Unlock()
	if ok && m.opts.Now().Sub(o.at) < offersTTL {
		return o.offers, nil
	}
	offers, err := p.Offers(ctx)
	if err != nil {
		return nil, err
	}
	m.listMu.Lock()
	m.offers[provider] = offerList{at: m.opts.Now(), offers: offers}
	m.listMu.Unlock()
	return offers, nil
}
