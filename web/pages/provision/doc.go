// Package provision is the dashboard's /provision page: launch GPU pods on a
// configured provider and watch each one come up (requested → provisioning
// → running → agent registered → Slurm node idle), and list every pod with
// its cost, stopping, resuming or terminating it after a confirmation.
// Every action needs a logged-in admin and lands in the audit log.
package provision
