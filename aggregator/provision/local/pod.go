package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
)

// record is what pods.json keeps of a pod: enough to start it again.
type record struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	RequestID   string            `json:"request_id,omitempty"`
	GPUType     string            `json:"gpu_type"`
	GPUCount    int               `json:"gpu_count"`
	Cloud       provision.Cloud   `json:"cloud,omitempty"`
	Role        provision.Role    `json:"role,omitempty"`
	CostPerHour float64           `json:"cost_per_hour"` // while running
	Env         map[string]string `json:"env,omitempty"` // may hold secrets: the file is 0600
	CreatedAt   time.Time         `json:"created_at"`
}

// pod is a record and where it is in its life. Its fields but op are
// guarded by the Provider's mutex.
type pod struct {
	rec        record
	status     provision.Status
	message    string
	metricsURL string
	address    string // the node's IP, in its own namespaces
	started    time.Time
	proc       *process   // nil when no agent runs
	op         sync.Mutex // serializes Create's start, Stop, Resume, Terminate
}

func (p *pod) snapshot() provision.Pod {
	out := provision.Pod{ID: p.rec.ID, Name: p.rec.Name, RequestID: p.rec.RequestID, Status: p.status,
		GPUType: p.rec.GPUType, GPUCount: p.rec.GPUCount, Cloud: p.rec.Cloud, Role: p.rec.Role,
		CreatedAt: p.rec.CreatedAt, MetricsURL: p.metricsURL, Address: p.address, Message: p.message}
	if p.status == provision.StatusProvisioning || p.status == provision.StatusRunning {
		out.CostPerHour = p.rec.CostPerHour
		out.Uptime = time.Since(p.started)
	}
	return out
}

const stateFile = "pods.json"

// loadRecords reads pods.json from dir; none yet is no pods.
func loadRecords(dir string) ([]record, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var recs []record
	if err := json.Unmarshal(b, &recs); err != nil {
		return nil, fmt.Errorf("%s: %w", stateFile, err)
	}
	return recs, nil
}

// saveRecords replaces pods.json in dir with pods, oldest first.
func saveRecords(dir string, pods map[string]*pod) error {
	recs := make([]record, 0, len(pods))
	for _, p := range pods {
		recs = append(recs, p.rec)
	}
	slices.SortFunc(recs, func(a, b record) int { return a.CreatedAt.Compare(b.CreatedAt) })
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, stateFile))
}
