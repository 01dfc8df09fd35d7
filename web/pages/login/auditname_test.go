package login

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Whatever is typed as a name, the audit log keeps at most 64 bytes of it,
// as valid UTF-8.
func TestAuditNameIsBounded(t *testing.T) {
	for _, in := range []string{"admin", strings.Repeat("x", 64), strings.Repeat("x", 1<<20), strings.Repeat("é", 40)} {
		got := auditName(in)
		if len(in) <= 64 && got != in {
			t.Errorf("auditName(%q) = %q, want it unchanged", in, got)
		}
		if len(got) > 64+len("…") || !utf8.ValidString(got) {
			t.Errorf("auditName of %d bytes = %d bytes, valid UTF-8 %v", len(in), len(got), utf8.ValidString(got))
		}
	}
}
