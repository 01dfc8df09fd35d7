package collector

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/parse"
)

// GPU is one of the node's GPUs: its NVML index, which is also its Slurm
// GRES index, and its UUID.
type GPU struct {
	Index int
	UUID  string
}

var gpuJobsDescs descs

var (
	gpuJobInfoDesc = gpuJobsDescs.gauge("gpuwd_gpu_job_info",
		"The Slurm job that holds a GPU (always 1; one series per job on a shared GPU).",
		"gpu", "UUID", "hostname", "job_id", "user", "account", "partition")
	gpuAllocatedDesc = gpuJobsDescs.gauge("gpuwd_gpu_allocated",
		"Whether a Slurm job holds the GPU (1) or not (0).", "gpu", "UUID", "hostname")
)

// GPUJobs says which Slurm job holds which GPU of one node.
type GPUJobs struct {
	r        Runner
	node     string
	hostname string
	gpus     []GPU

	updating sync.Mutex       // one Update at a time; guards cache
	cache    map[string][]int // job id@start time → the GPU indices it holds here
	snap     snapshot
}

// NewGPUJobs returns a GPUJobs for the Slurm node node, whose GPUs are gpus;
// hostname is the value of the hostname label.
func NewGPUJobs(r Runner, node, hostname string, gpus []GPU) *GPUJobs {
	return &GPUJobs{r: r, node: node, hostname: hostname, gpus: gpus, cache: map[string][]int{}}
}

// Update runs one collection cycle: squeue for the jobs on the node, and
// scontrol for the GPUs of each job not seen before. A job's allocation
// does not change while it runs, so it is asked for once; a job that
// starts again (requeued) is a new one. A job that ends between the two
// commands is left out. On error the GPUJobs collects nothing until an
// Update succeeds.
func (j *GPUJobs) Update(ctx context.Context) error {
	j.updating.Lock()
	defer j.updating.Unlock()
	m, err := j.cycle(ctx)
	j.snap.set(m)
	return err
}

// heldJob is a job and the GPUs it holds on the node.
type heldJob struct {
	parse.NodeJob
	gpus []int
}

func (j *GPUJobs) cycle(ctx context.Context) (batch, error) {
	jobs, err := run(ctx, j.r, parse.NodeJobs, "squeue", parse.NodeJobsArgs(j.node)...)
	if err != nil {
		return nil, err
	}
	held := make([]heldJob, 0, len(jobs))
	seen := make(map[string]bool, len(jobs))
	for _, job := range jobs {
		key := job.ID + "@" + job.Start
		if seen[key] {
			continue // listed twice: one series each is enough
		}
		seen[key] = true
		gpus, ok := j.cache[key]
		if !ok {
			var found bool
			if gpus, found, err = j.jobGPUs(ctx, job); err != nil {
				return nil, err
			}
			if !found {
				continue // ended since squeue ran
			}
			j.cache[key] = gpus
		}
		held = append(held, heldJob{job, gpus})
	}
	for key := range j.cache {
		if !seen[key] {
			delete(j.cache, key)
		}
	}
	return j.metrics(held), nil
}

// jobGPUs asks scontrol which GPUs of the node a job holds; found is false
// when Slurm no longer knows the job.
func (j *GPUJobs) jobGPUs(ctx context.Context, job parse.NodeJob) (gpus []int, found bool, err error) {
	out, err := j.r.Run(ctx, "scontrol", parse.JobDetailArgs(job.Name)...)
	if err != nil {
		if ctx.Err() == nil && strings.Contains(err.Error(), "Invalid job id") {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("run scontrol show job %s: %w", job.Name, err)
	}
	details, err := parse.JobDetails(out)
	if err != nil {
		return nil, false, fmt.Errorf("scontrol show job %s output: %w", job.Name, err)
	}
	// Asked for an array task, scontrol prints that task; asked for an
	// array's base id, every task. The one wanted has the job's own id.
	for _, d := range details {
		if d.ID == job.ID {
			gpus, err := d.GPUIndices(j.node)
			if err != nil {
				return nil, false, fmt.Errorf("scontrol show job %s output: %w", job.Name, err)
			}
			return gpus, true, nil
		}
	}
	return nil, false, nil
}

func (j *GPUJobs) metrics(held []heldJob) batch {
	b := make(batch, 0, len(j.gpus)*2)
	allocated := make(map[int]bool, len(j.gpus))
	for _, g := range j.gpus {
		for _, h := range held {
			for _, idx := range h.gpus {
				if idx == g.Index {
					allocated[idx] = true
					b.add(gpuJobInfoDesc, 1, strconv.Itoa(g.Index), g.UUID, j.hostname,
						h.Name, h.User, h.Account, h.Partition)
				}
			}
		}
	}
	for _, g := range j.gpus {
		v := 0.0
		if allocated[g.Index] {
			v = 1
		}
		b.add(gpuAllocatedDesc, v, strconv.Itoa(g.Index), g.UUID, j.hostname)
	}
	return b
}

// Describe sends the descriptions of the GPUJobs series.
func (j *GPUJobs) Describe(ch chan<- *prometheus.Desc) { gpuJobsDescs.describe(ch) }

// Collect sends the metrics of the last successful Update.
func (j *GPUJobs) Collect(ch chan<- prometheus.Metric) { j.snap.collect(ch) }
