package runpod

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
)

const (
	listQuery       = `query Pods { myself { pods { ` + podFields + ` } } }`
	getQuery        = `query Pod($input: PodFilter!) { pod(input: $input) { ` + podFields + ` } }`
	stopMutation    = `mutation StopPod($input: PodStopInput!) { podStop(input: $input) { id desiredStatus } }`
	resumeMutation  = `mutation ResumePod($input: PodResumeInput!) { podResume(input: $input) { id desiredStatus } }`
	terminateMutate = `mutation TerminatePod($input: PodTerminateInput!) { podTerminate(input: $input) }`
)

// List returns the account's pods, terminated ones excepted.
func (p *Provider) List(ctx context.Context) ([]provision.Pod, error) {
	var pods []provision.Pod
	err := p.retrying(ctx, "list pods", func(ctx context.Context) error {
		var err error
		pods, err = p.listOnce(ctx)
		return err
	})
	return pods, err
}

func (p *Provider) listOnce(ctx context.Context) ([]provision.Pod, error) {
	var out struct {
		Myself struct {
			Pods []apiPod `json:"pods"`
		} `json:"myself"`
	}
	if err := p.call(ctx, "list pods", listQuery, nil, &out); err != nil {
		return nil, err
	}
	pods := make([]provision.Pod, 0, len(out.Myself.Pods))
	for _, a := range out.Myself.Pods {
		if pod := toPod(a, p.cfg.MetricsPort); pod.Status != provision.StatusTerminated {
			pods = append(pods, pod)
		}
	}
	return pods, nil
}

// Get returns one pod, or an error wrapping provision.ErrNotFound.
func (p *Provider) Get(ctx context.Context, id string) (provision.Pod, error) {
	var out struct {
		Pod *apiPod `json:"pod"`
	}
	err := p.do(ctx, "get pod", getQuery, podInput(id), &out)
	if err != nil {
		return provision.Pod{}, notFound(err, id)
	}
	if out.Pod == nil || out.Pod.ID == "" {
		return provision.Pod{}, fmt.Errorf("runpod get pod %s: %w", id, provision.ErrNotFound)
	}
	return toPod(*out.Pod, p.cfg.MetricsPort), nil
}

// Stop releases the pod's GPUs; its volume stays, and is billed.
func (p *Provider) Stop(ctx context.Context, id string) error {
	var out struct {
		Pod *struct{ ID string } `json:"podStop"`
	}
	if err := p.do(ctx, "stop pod", stopMutation, podInput(id), &out); err != nil {
		return notFound(err, id)
	}
	if out.Pod == nil {
		return fmt.Errorf("runpod stop pod %s: %w", id, provision.ErrNotFound)
	}
	p.log.Info("runpod pod stopped", "pod", id)
	return nil
}

// Resume starts a stopped pod again with the GPU count it had; a pod that
// is running or starting is left alone.
func (p *Provider) Resume(ctx context.Context, id string) error {
	pod, err := p.Get(ctx, id)
	if err != nil {
		return err
	}
	if pod.Status == provision.StatusRunning || pod.Status == provision.StatusProvisioning {
		return nil
	}
	vars := map[string]any{"input": map[string]any{"podId": id, "gpuCount": max(pod.GPUCount, 1)}}
	var out struct {
		Pod *struct{ ID string } `json:"podResume"`
	}
	if err := p.do(ctx, "resume pod", resumeMutation, vars, &out); err != nil {
		return notFound(err, id)
	}
	if out.Pod == nil {
		return fmt.Errorf("runpod resume pod %s: %w", id, provision.ErrNotFound)
	}
	p.log.Info("runpod pod resumed", "pod", id)
	return nil
}

// Terminate removes the pod and its volume. When an earlier attempt's
// reply was lost and the pod is now gone, that attempt did it: success.
func (p *Provider) Terminate(ctx context.Context, id string) error {
	uncertain := false
	err := p.retrying(ctx, "terminate pod", func(ctx context.Context) error {
		err := p.call(ctx, "terminate pod", terminateMutate, podInput(id), nil)
		if err != nil && uncertain && isNotFound(err) {
			return nil
		}
		uncertain = uncertain || mayHaveTakenEffect(err)
		return err
	})
	if err != nil {
		return notFound(err, id)
	}
	p.log.Info("runpod pod terminated", "pod", id)
	return nil
}

func podInput(id string) map[string]any {
	return map[string]any{"input": map[string]any{"podId": id}}
}

// notFound wraps provision.ErrNotFound around API errors that say the pod
// does not exist.
func notFound(err error, id string) error {
	if isNotFound(err) {
		return fmt.Errorf("%w (pod %s): %w", provision.ErrNotFound, id, err)
	}
	return err
}

func isNotFound(err error) bool {
	var ge *GraphQLError
	if !errors.As(err, &ge) {
		return false
	}
	for _, m := range ge.Messages {
		m = strings.ToLower(m)
		if strings.Contains(m, "not found") || strings.Contains(m, "does not exist") || strings.Contains(m, "no pod") {
			return true
		}
	}
	return false
}
