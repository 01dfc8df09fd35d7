package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"

	"github.com/gpu-watchdog/gpu-watchdog/web/assets"
	"github.com/gpu-watchdog/gpu-watchdog/web/chart"
)

// Extra are assets that live in other packages: the charts' stylesheet.
var Extra = map[string][]byte{"chart.css": []byte(chart.CSS)}

// assetVersions holds a short content hash per asset, so pages link to
// /static/NAME?v=HASH and browsers may cache assets for good.
var assetVersions = func() map[string]string {
	out := map[string]string{}
	_ = fs.WalkDir(assets.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets.FS, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[path] = hex.EncodeToString(sum[:6])
		return nil
	})
	for name, b := range Extra {
		sum := sha256.Sum256(b)
		out[name] = hex.EncodeToString(sum[:6])
	}
	return out
}()

// AssetPath is the URL of an embedded asset, with its content hash.
func AssetPath(name string) string {
	return "/static/" + name + "?v=" + assetVersions[name]
}
