package secret

import (
	"bytes"
	"fmt"
	"io"
	"os"
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
func (s Secret) GoString() string { return `secret.Secret("` + s.String() + `")` }

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

// Read returns inline, or the trimmed content of file when file is set:
// read at each use, so a rotated file is picked up.
func Read(inline Secret, file string) (Secret, error) {
	if file == "" {
		return inline, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	return Secret(bytes.TrimSpace(b)), nil
}
