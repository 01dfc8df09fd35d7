package runpodtest

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Pod is a pod as the fake holds it.
type Pod struct {
	ID, Name, ImageName string
	GPUTypeID           string
	CloudType           string // where it landed: SECURE or COMMUNITY
	GPUCount            int
	ContainerDiskInGb   int
	VolumeInGb          int
	Ports               string // as created: "9400/http,22/tcp"
	Env                 map[string]string
	DesiredStatus       string // RUNNING or EXITED
	Running             bool   // has a runtime: started, ports mapped
	CostPerHr           float64
}

type pod struct {
	Pod
	gpuPrice  float64   // per GPU-hour
	pendingAt time.Time // when it last asked to run
	startedAt time.Time
	seq       int            // numbers its addresses
	exposed   map[int]string // private port → public "ip:port" (ExposeTCP)
}

// stoppedVolumePrice is RunPod's volume price while stopped: $0.20 per GB
// and month, per hour.
const stoppedVolumePrice = 0.20 / 730

var errNotFound = errors.New("pod not found")

// Pods returns the pods that are not terminated, oldest first.
func (s *Server) Pods() []Pod {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	out := make([]Pod, 0, len(s.order))
	for _, id := range s.order {
		p := s.pods[id].Pod
		p.Env = maps.Clone(p.Env)
		out = append(out, p)
	}
	return out
}

// Start gives a pod waiting to run its runtime now.
func (s *Server) Start(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pods[id]
	if p == nil {
		return errNotFound
	}
	if p.DesiredStatus != "RUNNING" {
		return fmt.Errorf("pod %s is %s", id, p.DesiredStatus)
	}
	s.start(p)
	return nil
}

// ExposeTCP maps the pod's privatePort, while it runs, to a public TCP
// address as well, hostPort ("127.0.0.1:41234"), as RunPod's public TCP
// ports do: the provider then reaches the port there rather than through
// RunPod's HTTP proxy. Tests point it at an agent they run, so nothing is
// sent to runpod.net.
func (s *Server) ExposeTCP(id string, privatePort int, hostPort string) error {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return err
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil || host == "" {
		return fmt.Errorf("ExposeTCP: %q is not host:port", hostPort)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pods[id]
	if p == nil {
		return errNotFound
	}
	if p.exposed == nil {
		p.exposed = map[int]string{}
	}
	p.exposed[privatePort] = hostPort
	return nil
}

// StartAll starts every pod waiting to run.
func (s *Server) StartAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pods {
		if p.DesiredStatus == "RUNNING" {
			s.start(p)
		}
	}
}

// advance starts the pods whose StartDelay has passed.
func (s *Server) advance() {
	if s.opts.ManualStart {
		return
	}
	now := s.opts.Now()
	for _, p := range s.pods {
		if p.DesiredStatus == "RUNNING" && !now.Before(p.pendingAt.Add(s.opts.StartDelay)) {
			s.start(p)
		}
	}
}

func (s *Server) start(p *pod) {
	if !p.Running {
		p.Running = true
		p.startedAt = s.opts.Now()
	}
}

func (s *Server) create(in podInput) (*pod, error) {
	t, ok := s.gpuType(in.GPUTypeID)
	switch {
	case !ok:
		return nil, fmt.Errorf("gpu type %q not found", in.GPUTypeID)
	case in.ImageName == "":
		return nil, errors.New("imageName is required")
	case in.GPUCount < 1:
		return nil, errors.New("gpuCount must be at least 1")
	}
	price, cloud := t.price(in.CloudType)
	if t.SoldOut || price == 0 || (t.MaxGPUs > 0 && in.GPUCount > t.MaxGPUs) {
		//lint:ignore ST1005 the real API's wording
		return nil, errors.New(noInstances)
	}
	s.nextID++
	s.creates++
	p := &pod{
		Pod: Pod{
			ID: fmt.Sprintf("fakepod%07d", s.nextID), Name: in.Name, ImageName: in.ImageName,
			GPUTypeID: t.ID, CloudType: cloud, GPUCount: in.GPUCount,
			ContainerDiskInGb: in.ContainerDiskInGb, VolumeInGb: in.VolumeInGb, Ports: in.Ports,
			Env: map[string]string{}, DesiredStatus: "RUNNING", CostPerHr: price * float64(in.GPUCount),
		},
		gpuPrice: price, pendingAt: s.opts.Now(), seq: s.nextID,
	}
	for _, e := range in.Env {
		p.Env[e.Key] = e.Value
	}
	s.pods[p.ID] = p
	s.order = append(s.order, p.ID)
	s.advance()
	return p, nil
}

func (s *Server) stop(id string) (any, error) {
	p := s.pods[id]
	if p == nil {
		return nil, errNotFound
	}
	p.DesiredStatus, p.Running = "EXITED", false
	p.CostPerHr = float64(p.VolumeInGb) * stoppedVolumePrice
	return map[string]any{"id": p.ID, "desiredStatus": p.DesiredStatus}, nil
}

func (s *Server) resume(id string, gpuCount int) (any, error) {
	p := s.pods[id]
	switch {
	case p == nil:
		return nil, errNotFound
	case gpuCount < 1:
		return nil, errors.New("gpuCount must be at least 1")
	}
	if p.DesiredStatus == "EXITED" {
		p.DesiredStatus, p.GPUCount, p.pendingAt = "RUNNING", gpuCount, s.opts.Now()
		p.CostPerHr = p.gpuPrice * float64(gpuCount)
		s.advance()
	}
	return map[string]any{"id": p.ID, "desiredStatus": p.DesiredStatus}, nil
}

func (s *Server) terminate(id string) error {
	if s.pods[id] == nil {
		return errNotFound
	}
	delete(s.pods, id)
	s.order = slices.DeleteFunc(s.order, func(v string) bool { return v == id })
	return nil
}

func (s *Server) podsJSON() []map[string]any {
	out := make([]map[string]any, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.podJSON(s.pods[id]))
	}
	return out
}

// podJSON renders a pod as the API does: env as "K=V" strings, runtime
// null until the pod has started.
func (s *Server) podJSON(p *pod) map[string]any {
	env := make([]string, 0, len(p.Env))
	for k, v := range p.Env {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	t, _ := s.gpuType(p.GPUTypeID)
	out := map[string]any{
		"id": p.ID, "name": p.Name, "desiredStatus": p.DesiredStatus, "costPerHr": p.CostPerHr,
		"gpuCount": p.GPUCount, "imageName": p.ImageName, "env": env,
		"containerDiskInGb": p.ContainerDiskInGb, "volumeInGb": p.VolumeInGb, "ports": p.Ports,
		"lastStatusChange": statusChange(p.DesiredStatus),
		"machine":          map[string]any{"gpuTypeId": t.ID, "gpuDisplayName": t.DisplayName},
		"runtime":          nil,
	}
	if p.Running {
		out["runtime"] = map[string]any{
			"uptimeInSeconds": int(s.opts.Now().Sub(p.startedAt).Seconds()),
			"ports":           p.runtimePorts(),
		}
	}
	return out
}

func statusChange(status string) string {
	if status == "EXITED" {
		return "Exited by user"
	}
	return "Rented by User"
}

// runtimePorts maps http ports through the proxy (a private address) and
// tcp ports to a public address and a random-looking port.
func (p *pod) runtimePorts() []map[string]any {
	var out []map[string]any
	for spec := range strings.SplitSeq(p.Ports, ",") {
		num, kind, _ := strings.Cut(strings.TrimSpace(spec), "/")
		port, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		m := map[string]any{"privatePort": port, "type": kind}
		if kind == "tcp" {
			m["ip"], m["isIpPublic"], m["publicPort"] = fmt.Sprintf("203.0.113.%d", p.seq%250+1), true, 40000+p.seq
		} else {
			m["ip"], m["isIpPublic"], m["publicPort"] = fmt.Sprintf("100.65.0.%d", p.seq%250+1), false, 60000+p.seq
		}
		out = append(out, m)
		if hp, ok := p.exposed[port]; ok {
			host, public, _ := net.SplitHostPort(hp)
			pp, _ := strconv.Atoi(public)
			out = append(out, map[string]any{"privatePort": port, "type": "tcp", "ip": host, "isIpPublic": true, "publicPort": pp})
		}
	}
	return out
}
