// Package parse reads the text that Slurm's client commands print: sinfo and
// squeue with -O field lists, scontrol's one-line records (-o), sdiag, and
// the pieces inside them (hostlists, GRES strings, TRES lists). It exists so
// that every quirk of that text is handled, and tested on captured output,
// in one place, with no commands run: the functions here are pure, and the
// argument lists they expect (NodesArgs, JobsArgs, …) are exported so that
// the callers run exactly the command a parser was written for.
//
// Output is read line by line; a line that does not have the expected shape
// is an error naming the line (LineError), never a silent guess. Empty
// output is valid: a cluster with no nodes or no jobs.
//
// The formats are those of Slurm 22.05 (captured in testdata) and of the
// newer releases up to 26.05 where they differ (see testdata/README.md).
package parse
