package config

import (
	"fmt"

	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// Secret is a string that prints as <secret> (see internal/secret).
type Secret = secret.Secret

// Format prints the block with its credentials hidden. It is needed because
// fmt prints a pointer field (Authorization is one) with a verb that does
// not suit pointers, such as %s, without calling its fields' methods.
func (a Authorization) Format(f fmt.State, verb rune) {
	type plain Authorization // the fields, without this method
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), plain(a))
}

// Format prints the block with its password hidden (see Authorization.Format).
func (b BasicAuth) Format(f fmt.State, verb rune) {
	type plain BasicAuth
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), plain(b))
}
