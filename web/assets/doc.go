// Package assets embeds the dashboard's static files (the stylesheet and
// the live-refresh script), so the gpuwd binary serves them without
// anything on disk.
package assets

import "embed"

// FS holds the files, served under /static/.
//
//go:embed *.css *.js
var FS embed.FS
