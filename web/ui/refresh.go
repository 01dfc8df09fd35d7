package ui

import (
	"context"
	"strconv"
	"time"
)

type refreshKey struct{}

// WithRefresh records how often pages refresh themselves (0: never), for
// the layout to tell the live-refresh script.
func WithRefresh(ctx context.Context, every time.Duration) context.Context {
	return context.WithValue(ctx, refreshKey{}, every)
}

// refreshSeconds is the interval in whole seconds, "0" when off.
func refreshSeconds(ctx context.Context) string {
	d, _ := ctx.Value(refreshKey{}).(time.Duration)
	return strconv.Itoa(int(d.Round(time.Second) / time.Second))
}
