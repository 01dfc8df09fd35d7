// Package matcher is Alertmanager's label matcher: the `name="value"`,
// `name!=value`, `name=~"regex"` and `name!~regex` syntax that routes,
// inhibition rules, silences and API filters share, parsed as Alertmanager
// parses it (values quoted or not, an optional {…} around a comma-separated
// list) and printed as Alertmanager prints it, since route keys and group
// keys are built from that text and must be the same as Alertmanager's.
package matcher
