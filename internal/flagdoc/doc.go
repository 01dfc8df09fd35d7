// Package flagdoc renders the README's reference of every flag of
// gpuwd-agent and gpuwd serve with its GPUWD_* environment variable and
// default, from the very flag sets the programs parse (agent.Options and
// aggregator.Options register them), so the reference cannot drift from the
// code: a test fails when the README's block is not what Generate renders,
// and `make docs` (go run ./internal/flagdoc/gen) rewrites it.
package flagdoc
