// Package cli holds what both programs' mains share: every flag can also be
// set through a GPUWD_* environment variable (RunPod templates and systemd
// environment files set env, not flags), and the service logger is built the
// same way for both.
package cli
