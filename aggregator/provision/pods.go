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

// A provider's GPU types and prices are reused for offersTTL, asked again
// offersRetry after a failure, each ask limited to offersTimeout (retries
// included); a page waits offersWait at most for a first answer.
const (
	offersTTL     = 10 * time.Minute
	offersRetry   = 30 * time.Second
	offersTimeout = 2 * time.Minute
	offersWait    = 3 * time.Second
)

type podList struct {
	at   time.Time
	pods []Pod
	err  error
}

type offerList struct {
	at       time.Time // when the last ask ended
	offers   []Offer   // the last good answer
	err      error     // the last ask's error, nil when it answered
	fetching chan struct{}
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

// actListWait bounds the listing after an action, which its page waits for.
const actListWait = 3 * time.Second

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
	// Listed again at once, so the page after the action shows it; a
	// provider slow to list keeps its last list rather than the page.
	lctx, cancel := context.WithTimeout(ctx, actListWait)
	m.list(lctx, provider)
	cancel()
	if err != nil {
		return fmt.Errorf("%s %s on %s: %w", a, id, provider, err)
	}
	return nil
}

// Offers lists what provider can launch: the provider's last answer,
// asked again in the background once older than offersTTL (a failed ask
// after offersRetry). A page waits for the provider only when it has never
// answered, and then at most offersWait; a provider still failing or slow
// is an error saying so, and the last good offers are kept meanwhile.
func (m *Manager) Offers(ctx context.Context, provider string) ([]Offer, error) {
	p, err := m.Provider(provider)
	if err != nil {
		return nil, err
	}
	m.listMu.Lock()
	o := m.offers[provider]
	age := m.opts.Now().Sub(o.at)
	if o.fetching == nil && (o.at.IsZero() || age > offersTTL || (o.err != nil && age > offersRetry)) {
		o.fetching = make(chan struct{})
		m.offers[provider] = o
		go m.fetchOffers(provider, p, o.fetching)
	}
	wait := o.fetching
	m.listMu.Unlock()
	if wait != nil && len(o.offers) == 0 {
		t := time.NewTimer(offersWait)
		defer t.Stop()
		select {
		case <-wait:
		case <-t.C:
		case <-ctx.Done():
		}
	}
	m.listMu.Lock()
	o = m.offers[provider]
	m.listMu.Unlock()
	switch {
	case len(o.offers) > 0:
		return o.offers, nil
	case o.err != nil:
		return nil, o.err
	case o.fetching != nil:
		return nil, fmt.Errorf("%s has not listed its GPU types yet; reload in a moment", provider)
	}
	return nil, nil
}

// fetchOffers asks p for its offers, within offersTimeout, and keeps the
// answer; done is closed after.
func (m *Manager) fetchOffers(name string, p Provider, done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), offersTimeout)
	defer cancel()
	offers, err := p.Offers(ctx)
	m.listMu.Lock()
	defer m.listMu.Unlock()
	o := m.offers[name]
	o.at, o.fetching = m.opts.Now(), nil
	if err != nil {
		o.err = err
	} else {
		o.offers, o.err = offers, nil
	}
	m.offers[name] = o
	close(done)
}
