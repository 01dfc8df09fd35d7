// Package userrules keeps the alerting rules that people create, edit and
// delete in the dashboard, in a table of alerts.db, so they survive
// restarts without anyone editing rule files on the server. They form one
// rule group (File and Group name it) that the rule manager evaluates
// beside the files' groups, through rules.Options.Extra, and that exports as
// an ordinary Prometheus rule file. Every rule is checked before it is
// stored with the checker of `gpuwd rules check`, and saves use optimistic
// concurrency, so two people editing one rule cannot silently overwrite
// each other.
package userrules
