// Package discord sends notifications to a Discord webhook: one embed per
// alert (red while firing, green once resolved) with the GPU, node, value,
// Slurm job and user as fields, linking to the dashboard. Discord refuses a
// whole message when any size limit is passed, so every limit is kept by
// cutting text and summarising the alerts that do not fit; a 404 means the
// webhook was deleted and stops deliveries, and rate limits are honoured
// from both the Retry-After header and the body's retry_after.
package discord
