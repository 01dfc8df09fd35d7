//go:build !unix

package discovery

import "io/fs"

// inode is unknown here; size and modification time must do.
func inode(fs.FileInfo) uint64 { return 0 }
