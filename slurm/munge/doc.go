// Package munge handles the key every node of a Slurm cluster shares:
// reading it from GPUWD_MUNGE_KEY (base64) or a file, generating one on a
// head that was given none, and writing it where munged reads it. A key is
// a secret: no error or log line here carries it.
package munge
