package collector

func init() { registerPerGPU("pcie", true, readPCIe) }

var pcieReplayDesc = gpuDesc("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "Total number of PCIe retries.")

// readPCIe reads the PCIe replay counter: a rising count means a bad riser,
// slot or link.
func readPCIe(r *reader) {
	if v, ret := r.g.Device.GetPcieReplayCounter(); r.ok("pcie replay counter", ret) {
		r.counter(pcieReplayDesc, float64(v))
	}
}
