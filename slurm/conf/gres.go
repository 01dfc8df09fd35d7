package conf

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// LinkGPUs makes dir/gpu0 … dir/gpu<GresSlots-1>: link i points at
// devices[i], the device file of NVML GPU i, and the slots past the node's
// GPUs at /dev/null. Every device file must exist: slurmd stats each one and
// gives up on the node if one is missing.
func LinkGPUs(dir string, devices []string) error {
	if len(devices) > GresSlots {
		devices = devices[:GresSlots]
	}
	for i, d := range devices {
		st, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("GPU %d: device file: %w", i, err)
		}
		if st.Mode()&os.ModeDevice == 0 {
			return fmt.Errorf("GPU %d: %s is not a device file", i, d)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range GresSlots {
		target := "/dev/null"
		if i < len(devices) {
			target = devices[i]
		}
		link := filepath.Join(dir, "gpu"+strconv.Itoa(i))
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		}
		tmp := link + ".tmp"
		_ = os.Remove(tmp)
		if err := os.Symlink(target, tmp); err != nil {
			return err
		}
		if err := os.Rename(tmp, link); err != nil {
			return err
		}
	}
	return nil
}
