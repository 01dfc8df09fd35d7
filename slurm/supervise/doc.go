// Package supervise runs long-lived daemons (munged, slurmctld, slurmd) as
// children of the agent: in the foreground, restarted with backoff when they
// die, their output folded into the agent's log one line at a time with the
// daemon's name and a level read from the line, and their state exported as
// metrics. Children are started with a parent-death signal, so a killed agent
// leaves no daemon behind to block the ports of the next one.
package supervise
