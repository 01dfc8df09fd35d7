// Package dispatch is gpuwd's Alertmanager core: it takes the alerts the
// rule engine fires, sorts them through the route tree into aggregation
// groups, and on Alertmanager's timers (group_wait, group_interval,
// repeat_interval) turns each group into one notification for its
// receiver, leaving out what silences and inhibition rules mute and what
// the receiver was already told. Notifications go to a durable log (the
// outbox) that also remembers what was last sent, so a restart does not
// notify again about groups nothing changed in. Timers are driven by Tick,
// which Run calls on the wall clock and tests call with the times they
// choose.
package dispatch
