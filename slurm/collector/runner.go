package collector

import (
	"context"
	"fmt"
)

// Runner runs a Slurm client command and returns its standard output. It
// returns an error when the command exits non-zero, times out, or is not
// installed; it must return when ctx ends.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// run runs a command and parses its output.
func run[T any](ctx context.Context, r Runner, parse func([]byte) (T, error), name string, args ...string) (T, error) {
	var zero T
	out, err := r.Run(ctx, name, args...)
	if err != nil {
		return zero, fmt.Errorf("run %s: %w", name, err)
	}
	v, err := parse(out)
	if err != nil {
		return zero, fmt.Errorf("%s output: %w", name, err)
	}
	return v, nil
}
