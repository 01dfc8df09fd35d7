package runpod

import (
	"context"
	"slices"
	"strings"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
)

const gpuTypesQuery = `query GpuTypes($lowestPrice: GpuLowestPriceInput) {
	gpuTypes {
		id displayName memoryInGb secureCloud communityCloud securePrice communityPrice maxGpuCount
		lowestPrice(input: $lowestPrice) { uninterruptablePrice }
	}
}`

type apiGPUType struct {
	ID             string  `json:"id"`
	DisplayName    string  `json:"displayName"`
	MemoryInGb     int     `json:"memoryInGb"`
	SecureCloud    bool    `json:"secureCloud"`
	CommunityCloud bool    `json:"communityCloud"`
	SecurePrice    float64 `json:"securePrice"`
	CommunityPrice float64 `json:"communityPrice"`
	MaxGPUCount    int     `json:"maxGpuCount"`
	LowestPrice    *struct {
		UninterruptablePrice float64 `json:"uninterruptablePrice"`
	} `json:"lowestPrice"`
}

// Offers lists the GPU types offered in either cloud, by display name.
func (p *Provider) Offers(ctx context.Context) ([]provision.Offer, error) {
	var out struct {
		GPUTypes []apiGPUType `json:"gpuTypes"`
	}
	vars := map[string]any{"lowestPrice": map[string]any{"gpuCount": 1}}
	if err := p.do(ctx, "gpu types", gpuTypesQuery, vars, &out); err != nil {
		return nil, err
	}
	var offers []provision.Offer
	for _, t := range out.GPUTypes {
		if o, ok := toOffer(t); ok {
			offers = append(offers, o)
		}
	}
	slices.SortFunc(offers, func(a, b provision.Offer) int { return strings.Compare(a.DisplayName, b.DisplayName) })
	return offers, nil
}

// toOffer keeps a cloud's price only where the type is offered there, and
// falls back on the lowest price when the per-cloud prices are missing.
func toOffer(t apiGPUType) (provision.Offer, bool) {
	if t.ID == "" || strings.EqualFold(t.ID, "unknown") || !(t.SecureCloud || t.CommunityCloud) {
		return provision.Offer{}, false
	}
	o := provision.Offer{GPUType: t.ID, DisplayName: t.DisplayName, MemoryGB: t.MemoryInGb, MaxGPUs: t.MaxGPUCount}
	if t.SecureCloud {
		o.SecurePrice = t.SecurePrice
	}
	if t.CommunityCloud {
		o.CommunityPrice = t.CommunityPrice
	}
	if o.SecurePrice == 0 && o.CommunityPrice == 0 && t.LowestPrice != nil {
		if t.SecureCloud {
			o.SecurePrice = t.LowestPrice.UninterruptablePrice
		} else {
			o.CommunityPrice = t.LowestPrice.UninterruptablePrice
		}
	}
	if o.DisplayName == "" {
		o.DisplayName = t.ID
	}
	return o, true
}
