package cli

import "strings"

// StringList is a repeatable string flag: -run a -run b.
type StringList []string

// String joins the values.
func (l *StringList) String() string { return strings.Join(*l, ",") }

// Set adds a value.
func (l *StringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}
