package config

import (
	"fmt"
	"io"
)

// Secret is a string that prints as <secret>, so a config dumped to a log or a
// page never shows it.
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<secret>"
}

// GoString hides the value from %#v too (fmt does not use String there).
func (s Secret) GoString() string { return `config.Secret("` + s.String() + `")` }

// Format hides the value whatever the verb: without it, a verb that does
// not suit a string (%d) prints the raw value in its error text.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), s.String())
}

// MarshalYAML hides the value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON hides the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

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
