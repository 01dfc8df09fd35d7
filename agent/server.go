package agent

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// Handler serves the agent's endpoints:
//
//	/metrics      Prometheus metrics (text or OpenMetrics, gzip)   token
//	/api/v1/node  JSON inventory of the node                        token
//	/healthz      200 while sampling makes progress                 open
//	/readyz       200 once the first sample is published            open
//	/debug/sim/…  XID, GPU loss, heat on demand, with --simulate only token
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.requireToken(http.HandlerFunc(a.serveMetrics)))
	mux.Handle("GET /api/v1/node", a.requireToken(http.HandlerFunc(a.serveNode)))
	mux.HandleFunc("GET /healthz", a.serveHealth)
	mux.HandleFunc("GET /readyz", a.serveReady)
	if a.simulated != nil {
		mux.Handle("POST /debug/sim/xid", a.requireToken(http.HandlerFunc(a.serveSimXID)))
		mux.Handle("POST /debug/sim/lose", a.requireToken(http.HandlerFunc(a.serveSimLose)))
		mux.Handle("POST /debug/sim/heat", a.requireToken(http.HandlerFunc(a.serveSimHeat)))
	}
	mux.HandleFunc("GET /{$}", a.serveIndex)
	return refuseBodies(mux)
}

// MaxRequestBody is the largest request body the agent accepts: none of
// its endpoints reads one, so a larger one is refused with 413 unread.
const MaxRequestBody = 1 << 10

// refuseBodies answers 413 to a request whose body is over MaxRequestBody,
// having read at most that much.
func refuseBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tooLarge := r.ContentLength > MaxRequestBody
		if !tooLarge && r.Body != nil && r.Body != http.NoBody {
			n, _ := io.Copy(io.Discard, io.LimitReader(r.Body, MaxRequestBody+1))
			tooLarge = n > MaxRequestBody
		}
		if tooLarge {
			http.Error(w, fmt.Sprintf("request body is larger than %d bytes", MaxRequestBody), http.StatusRequestEntityTooLarge)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireToken lets a request through only with the bearer token, when one
// is set. The comparison (of hashes, so of equal lengths) takes the same
// time whatever the guess, its length included.
func (a *Agent) requireToken(next http.Handler) http.Handler {
	if a.opts.MetricsToken == "" {
		return next
	}
	want := sha256.Sum256([]byte("Bearer " + a.opts.MetricsToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gpuwd-agent"`)
			http.Error(w, "401 unauthorized: send Authorization: Bearer <token>", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *Agent) serveHealth(w http.ResponseWriter, _ *http.Request) {
	if a.sampler.stale() {
		http.Error(w, "sampling has stalled (a hung NVML call?)", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (a *Agent) serveReady(w http.ResponseWriter, _ *http.Request) {
	if a.sampler.snapshot() == nil {
		http.Error(w, "not ready: no sample yet", http.StatusServiceUnavailable)
		return
	}
	if a.slurm != nil {
		if ok, why := a.slurm.Ready(); !ok {
			http.Error(w, "not ready: Slurm: "+why, http.StatusServiceUnavailable)
			return
		}
	}
	fmt.Fprintln(w, "ready")
}

func (a *Agent) serveIndex(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "gpuwd-agent %s on %s\n\n/metrics\n/api/v1/node\n/healthz\n/readyz\n", a.opts.Version, a.hostname)
}

// nodeInfo is the /api/v1/node document.
type nodeInfo struct {
	Hostname     string      `json:"hostname"`
	AgentVersion string      `json:"agent_version"`
	Simulated    bool        `json:"simulated"`
	NVML         nvmlInfo    `json:"nvml"`
	GPUs         []gpuStatus `json:"gpus"`
	RunPod       *runPodInfo `json:"runpod,omitempty"`
	SampledAt    string      `json:"sampled_at"`
	// Registration is the state of self-registration, when it is on.
	Registration *registrationStatus `json:"registration,omitempty"`
	// Slurm is this node's part in Slurm, when it has one.
	Slurm *slurmStatus `json:"slurm,omitempty"`
}

type slurmStatus struct {
	Role   string `json:"role"`
	Node   string `json:"node"`
	Joined bool   `json:"joined"`
	Status string `json:"status,omitempty"`
}

func (a *Agent) slurmStatus() *slurmStatus {
	if a.slurm == nil {
		return nil
	}
	ok, why := a.slurm.Ready()
	return &slurmStatus{Role: string(a.opts.Slurm.Role), Node: a.slurm.Name(), Joined: ok, Status: why}
}

type nvmlInfo struct {
	Up            bool   `json:"up"`
	Error         string `json:"error,omitempty"`
	DriverVersion string `json:"driver_version,omitempty"`
	CUDAVersion   string `json:"cuda_version,omitempty"`
}

// runPodInfo is what RunPod tells a pod about itself through its environment.
type runPodInfo struct {
	PodID      string `json:"pod_id"`
	GPUCount   int    `json:"gpu_count,omitempty"`
	PublicIP   string `json:"public_ip,omitempty"`
	DataCenter string `json:"datacenter,omitempty"`
}

func runPodFromEnv() *runPodInfo {
	id := os.Getenv("RUNPOD_POD_ID")
	if id == "" {
		return nil
	}
	n, _ := strconv.Atoi(os.Getenv("RUNPOD_GPU_COUNT"))
	return &runPodInfo{PodID: id, GPUCount: n, PublicIP: os.Getenv("RUNPOD_PUBLIC_IP"), DataCenter: os.Getenv("RUNPOD_DC_ID")}
}

func (a *Agent) serveNode(w http.ResponseWriter, _ *http.Request) {
	snap := a.sampler.snapshot()
	info := nodeInfo{
		Hostname: a.hostname, AgentVersion: a.opts.Version, Simulated: a.simulated != nil,
		NVML:         nvmlInfo{Up: a.nvmlError == "", Error: a.nvmlError},
		GPUs:         snap.gpus,
		RunPod:       runPodFromEnv(),
		Registration: a.registrationStatus(),
		Slurm:        a.slurmStatus(),
	}
	if info.GPUs == nil {
		info.GPUs = []gpuStatus{}
	}
	if !snap.at.IsZero() {
		info.SampledAt = snap.at.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	info.NVML.DriverVersion, info.NVML.CUDAVersion = a.driver, a.cuda
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(info)
}

func (a *Agent) serveSimXID(w http.ResponseWriter, r *http.Request) {
	gpuIndex, err1 := strconv.Atoi(r.URL.Query().Get("gpu"))
	xid, err2 := strconv.ParseUint(r.URL.Query().Get("xid"), 10, 64)
	if err1 != nil || err2 != nil {
		http.Error(w, "want ?gpu=INDEX&xid=CODE", http.StatusBadRequest)
		return
	}
	if err := a.simulated.InjectXID(gpuIndex, xid); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.logger.Info("simulated XID injected", "gpu", gpuIndex, "xid", xid)
	fmt.Fprintf(w, "XID %d on GPU %d\n", xid, gpuIndex)
}

func (a *Agent) serveSimHeat(w http.ResponseWriter, r *http.Request) {
	gpuIndex, err1 := strconv.Atoi(r.URL.Query().Get("gpu"))
	celsius, err2 := strconv.ParseUint(r.URL.Query().Get("celsius"), 10, 32)
	if err1 != nil || err2 != nil || celsius > 150 {
		http.Error(w, "want ?gpu=INDEX&celsius=0..150 (0: simulated again)", http.StatusBadRequest)
		return
	}
	if err := a.simulated.Heat(gpuIndex, uint32(celsius)); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.logger.Info("simulated temperature pinned", "gpu", gpuIndex, "celsius", celsius)
	fmt.Fprintf(w, "GPU %d at %d °C\n", gpuIndex, celsius)
}

func (a *Agent) serveSimLose(w http.ResponseWriter, r *http.Request) {
	gpuIndex, err := strconv.Atoi(strings.TrimSpace(r.URL.Query().Get("gpu")))
	if err != nil {
		http.Error(w, "want ?gpu=INDEX", http.StatusBadRequest)
		return
	}
	if err := a.simulated.LoseGPU(gpuIndex); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.logger.Warn("simulated GPU fell off the bus", "gpu", gpuIndex)
	fmt.Fprintf(w, "GPU %d fell off the bus\n", gpuIndex)
}
