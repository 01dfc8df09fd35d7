package provision

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
)

// follow moves launch id on until it is done or ctx ends.
func (m *Manager) follow(ctx context.Context, id string) {
	t := time.NewTicker(m.opts.Poll)
	defer t.Stop()
	for {
		l, ok := m.Get(id)
		if !ok || l.Done() {
			return
		}
		next := m.step(ctx, l)
		if next.Stage != l.Stage || next.Error != l.Error || next.PodID != l.PodID {
			if next.Stage != l.Stage {
				reached(&next, m.opts.Now())
				m.opts.Logger.Info("launch moved on", "launch", id, "pod", next.PodID, "stage", next.Stage, "error", next.Error)
			}
			// Recorded first: what the dashboard shows survives a restart.
			if err := m.db.save(context.WithoutCancel(ctx), next); err != nil {
				m.opts.Logger.Error("could not record a launch's progress", "launch", id, "err", err)
			}
			m.mu.Lock()
			m.launches[id] = &next
			m.mu.Unlock()
			if next.Stage != l.Stage {
				continue // go straight on to the next stage's check
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// step checks once whether l can move on, and returns it as it now is.
func (m *Manager) step(ctx context.Context, l Launch) Launch {
	p, err := m.Provider(l.Provider)
	if err != nil {
		return fail(l, err.Error())
	}
	if m.opts.Now().Sub(l.At(StageRequested)) > m.opts.Timeout {
		return fail(l, fmt.Sprintf("not ready %v after it was asked for (stuck at %s)", m.opts.Timeout, l.Stage))
	}
	l.Reached = maps.Clone(l.Reached)
	switch l.Stage {
	case StageRequested:
		spec := l.Spec
		join, ok := m.opts.ProviderJoin[l.Provider]
		if !ok {
			join = m.opts.Join
		}
		if spec.ConfServer != "" {
			join.ConfServer = spec.ConfServer
		}
		spec.Env = join.AgentEnv(spec.Role, spec.RequestID)
		pod, err := p.Create(ctx, spec)
		if err != nil {
			// The provider has retried what can be retried: this is its answer.
			return fail(l, "create: "+err.Error())
		}
		l.PodID, l.Stage, l.Error = pod.ID, StageProvisioning, ""
	case StageProvisioning, StageRunning:
		pod, err := p.Get(ctx, l.PodID)
		switch {
		case errors.Is(err, ErrNotFound):
			return fail(l, "the pod is gone (terminated outside gpuwd?)")
		case err != nil:
			l.Error = err.Error() // passing: try again
			return l
		case pod.Status == StatusError || pod.Status == StatusTerminated || pod.Status == StatusExited:
			return fail(l, strings.TrimSpace(fmt.Sprintf("the pod is %s %s", strings.ToLower(string(pod.Status)), pod.Message)))
		case pod.Status == StatusRunning && l.Stage == StageProvisioning:
			l.Stage, l.Error = StageRunning, ""
		}
		if l.Stage == StageRunning {
			if node, ok := m.opts.Fleet.PodAgent(l.PodID); ok {
				l.Stage, l.Node = StageRegistered, node
			}
		}
	case StageRegistered:
		state, err := m.opts.Fleet.SlurmNodeState(ctx, l.Node)
		if err != nil {
			l.Error = err.Error()
			return l
		}
		// Responding and accepting jobs: no flag (* not responding, ~ powered
		// down, …) and a state that takes work.
		switch state {
		case "idle", "mixed", "allocated":
			l.Stage, l.Error = StageSlurmIdle, ""
		}
	}
	return l
}

// reached notes that l got to its stage at t, and to the stages it
// passed on the way in one step (a pod seen running with its agent
// already registered).
func reached(l *Launch, t time.Time) {
	if l.Stage == StageFailed {
		l.Reached[StageFailed] = t
		return
	}
	for _, s := range Stages {
		if l.Reached[s].IsZero() {
			l.Reached[s] = t
		}
		if s == l.Stage {
			return
		}
	}
}

func fail(l Launch, why string) Launch {
	l.Reached = maps.Clone(l.Reached)
	l.Stage, l.Error = StageFailed, why
	return l
}
