// Package assets embeds the dashboard's static files (the stylesheet), so
// the gpuwd binary serves them without anything on disk.
package assets

import "embed"

// FS holds the files, served under /static/.
//
//go:embed *.css
var FS embed.FS
