// Package idle stops (or terminates) provisioned pods whose GPUs have sat
// idle, so an idle GPU does not bill for hours unnoticed.
//
// A policy is a Prometheus alerting rule (RuleFile writes them): a pod of
// the policy's pool whose busiest GPU stayed under the threshold for the
// rule's `for` fires GPUPodIdle, and that notification, routed to chat like
// any alert, is the grace notice. The Enforcer acts on alerts that have
// fired for the grace period: it stops or terminates the pod, or in dry-run
// only says what it would have done. A silenced alert postpones the action;
// an agent registered with the label gpuwd_idle_policy="off" is never
// matched. Every action is written to the audit log first, recorded in
// alerts.db (so a restart neither repeats nor forgets one) and announced in
// chat.
package idle
