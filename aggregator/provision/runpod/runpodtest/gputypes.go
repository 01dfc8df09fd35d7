package runpodtest

// GPUType is a GPU type the fake offers, with prices per GPU-hour in USD
// (0: not offered in that cloud).
type GPUType struct {
	ID             string
	DisplayName    string
	MemoryGB       int
	SecurePrice    float64
	CommunityPrice float64
	MaxGPUs        int
	// SoldOut makes creates with this type fail as the real API does when
	// no host has the GPUs.
	SoldOut bool
}

// DefaultGPUTypes are three types with prices like RunPod's.
func DefaultGPUTypes() []GPUType {
	return []GPUType{
		{ID: "NVIDIA GeForce RTX 4090", DisplayName: "RTX 4090", MemoryGB: 24, SecurePrice: 0.69, CommunityPrice: 0.34, MaxGPUs: 8},
		{ID: "NVIDIA A100 80GB PCIe", DisplayName: "A100 PCIe", MemoryGB: 80, SecurePrice: 1.64, CommunityPrice: 1.19, MaxGPUs: 8},
		{ID: "NVIDIA H100 80GB HBM3", DisplayName: "H100 SXM", MemoryGB: 80, SecurePrice: 2.99, MaxGPUs: 8},
	}
}

// noInstances is the real API's message when no host can take the pod.
const noInstances = "There are no longer any instances available with the requested specifications. Please refresh and try again."

func (s *Server) gpuType(id string) (GPUType, bool) {
	for _, t := range s.opts.GPUTypes {
		if t.ID == id {
			return t, true
		}
	}
	return GPUType{}, false
}

// price is what one GPU costs in the cloud type asked for (ALL: the
// cheaper), and the cloud it lands in; 0 when not offered.
func (t GPUType) price(cloud string) (float64, string) {
	switch cloud {
	case "SECURE":
		return t.SecurePrice, "SECURE"
	case "COMMUNITY":
		return t.CommunityPrice, "COMMUNITY"
	}
	if t.CommunityPrice > 0 && (t.SecurePrice == 0 || t.CommunityPrice < t.SecurePrice) {
		return t.CommunityPrice, "COMMUNITY"
	}
	return t.SecurePrice, "SECURE"
}

func (s *Server) gpuTypesJSON() []map[string]any {
	out := make([]map[string]any, 0, len(s.opts.GPUTypes))
	for _, t := range s.opts.GPUTypes {
		lowest, _ := t.price("ALL")
		out = append(out, map[string]any{
			"id":             t.ID,
			"displayName":    t.DisplayName,
			"memoryInGb":     t.MemoryGB,
			"secureCloud":    t.SecurePrice > 0,
			"communityCloud": t.CommunityPrice > 0,
			"securePrice":    t.SecurePrice,
			"communityPrice": t.CommunityPrice,
			"maxGpuCount":    t.MaxGPUs,
			"lowestPrice":    map[string]any{"uninterruptablePrice": lowest},
		})
	}
	return out
}
