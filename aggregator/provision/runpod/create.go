package runpod

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
)

const createMutation = `mutation CreatePod($input: PodFindAndDeployOnDemandInput!) {
	podFindAndDeployOnDemand(input: $input) { ` + podFields + ` }
}`

// ErrInvalidSpec is wrapped by Create when the PodSpec cannot be launched
// as it is.
var ErrInvalidSpec = errors.New("invalid pod spec")

// Create launches a pod, or returns the one already launched for
// spec.RequestID. It never makes two pods for one RequestID.
func (p *Provider) Create(ctx context.Context, spec provision.PodSpec) (provision.Pod, error) {
	input, err := p.deployInput(spec)
	if err != nil {
		return provision.Pod{}, err
	}
	log := p.log.With("request_id", spec.RequestID)
	var (
		created   provision.Pod
		uncertain bool // an earlier attempt may have made the pod
		firstTry  = true
	)
	err = p.retrying(ctx, "create pod", func(ctx context.Context) error {
		if firstTry || uncertain {
			pod, found, err := p.findRequest(ctx, spec.RequestID)
			if err != nil {
				return err
			}
			if found {
				log.Info("runpod pod already exists for request", "pod", pod.ID, "status", pod.Status)
				created = pod
				return nil
			}
			firstTry = false
		}
		var out struct {
			Pod *apiPod `json:"podFindAndDeployOnDemand"`
		}
		err := p.call(ctx, "create pod", createMutation, map[string]any{"input": input}, &out)
		if err != nil {
			uncertain = uncertain || mayHaveTakenEffect(err)
			return err
		}
		if out.Pod == nil || out.Pod.ID == "" {
			return errors.New("runpod create pod: the reply has no pod")
		}
		created = toPod(*out.Pod, p.cfg.MetricsPort)
		if created.RequestID == "" {
			created.RequestID = spec.RequestID
		}
		log.Info("runpod pod created", "pod", created.ID, "gpu_type", spec.GPUType, "gpus", spec.GPUCount)
		return nil
	})
	if err != nil {
		return provision.Pod{}, err
	}
	return created, nil
}

// findRequest looks, once, for a live pod tagged with the request id.
func (p *Provider) findRequest(ctx context.Context, requestID string) (provision.Pod, bool, error) {
	pods, err := p.listOnce(ctx)
	if err != nil {
		return provision.Pod{}, false, err
	}
	for _, pod := range pods {
		if pod.RequestID == requestID {
			return pod, true, nil
		}
	}
	return provision.Pod{}, false, nil
}

type envVar struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// deployInput checks the spec and builds podFindAndDeployOnDemand's input.
func (p *Provider) deployInput(spec provision.PodSpec) (map[string]any, error) {
	image := spec.Image
	if image == "" {
		image = p.cfg.Image
	}
	cloud := spec.Cloud
	if cloud == "" {
		cloud = provision.CloudAll
	}
	switch {
	case spec.RequestID == "":
		return nil, fmt.Errorf("runpod: %w: no RequestID", ErrInvalidSpec)
	case spec.GPUType == "":
		return nil, fmt.Errorf("runpod: %w: no GPU type", ErrInvalidSpec)
	case spec.GPUCount < 1:
		return nil, fmt.Errorf("runpod: %w: GPU count %d, want at least 1", ErrInvalidSpec, spec.GPUCount)
	case image == "":
		return nil, fmt.Errorf("runpod: %w: no image (set PodSpec.Image or Config.Image)", ErrInvalidSpec)
	case cloud != provision.CloudAll && cloud != provision.CloudSecure && cloud != provision.CloudCommunity:
		return nil, fmt.Errorf("runpod: %w: cloud %q, want ALL, SECURE or COMMUNITY", ErrInvalidSpec, cloud)
	}
	env := maps.Clone(spec.Env)
	if env == nil {
		env = map[string]string{}
	}
	env[EnvRequestID] = spec.RequestID
	if _, ok := env[EnvRole]; !ok && spec.Role != provision.RoleNone {
		env[EnvRole] = string(spec.Role)
	}
	vars := make([]envVar, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		vars = append(vars, envVar{Key: k, Value: env[k]})
	}
	name := spec.Name
	if name == "" {
		name = "gpuwd-" + spec.RequestID
	}
	input := map[string]any{
		"cloudType":         cloud,
		"gpuTypeId":         spec.GPUType,
		"gpuCount":          spec.GPUCount,
		"name":              name,
		"imageName":         image,
		"containerDiskInGb": p.cfg.ContainerDiskGB,
		"volumeInGb":        p.cfg.VolumeGB,
		"ports":             fmt.Sprintf("%d/http", p.cfg.MetricsPort),
		"env":               vars,
	}
	if p.cfg.VolumeGB > 0 {
		input["volumeMountPath"] = "/workspace"
	}
	return input, nil
}
