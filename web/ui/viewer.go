package ui

import "context"

// Viewer is who is looking at a page: pages show actions to admins only,
// and forms carry the CSRF token.
type Viewer struct {
	User string // the logged-in admin; "" when nobody is logged in
	CSRF string // the token forms send back as _csrf
	// Login is true where logins exist at all (a dashboard without them is
	// read-only for everyone).
	Login bool
}

type viewerKey struct{}

// WithViewer records who is looking, for the layout and the pages.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns who is looking (the zero Viewer when unknown).
func ViewerFrom(ctx context.Context) Viewer {
	v, _ := ctx.Value(viewerKey{}).(Viewer)
	return v
}

// Admin tells whether an admin is logged in.
func Admin(ctx context.Context) bool { return ViewerFrom(ctx).User != "" }

// InputError is a mistake in what a person typed: the page shows it
// beside the form (400), unlike a failure of the server (500).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Input marks err as the person's mistake (nil stays nil).
func Input(err error) error {
	if err == nil {
		return nil
	}
	return &InputError{Err: err}
}
