package munge

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyRoundTripsThroughBase64(t *testing.T) {
	k := GenerateKey()
	if len(k) != KeyBytes {
		t.Fatalf("generated %d bytes", len(k))
	}
	enc := k.Encode()
	for _, form := range []string{enc, strings.TrimRight(enc, "="), enc[:40] + "\n  " + enc[40:] + "\n"} {
		got, err := ParseKey(form)
		if err != nil || !bytes.Equal(got, k) {
			t.Errorf("ParseKey(%.20q…) = %v", form, err)
		}
	}
}

func TestBadKeysAreRefusedWithoutShowingThem(t *testing.T) {
	short := Key(bytes.Repeat([]byte{7}, 16)).Encode()
	for in, want := range map[string]string{"": "empty", "not base64!!": "not base64", short: "16 bytes"} {
		_, err := ParseKey(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseKey(%q) = %v, want an error saying %q", in, err, want)
		}
		if in != "" && err != nil && strings.Contains(err.Error(), in) {
			t.Errorf("the error repeats the key: %v", err)
		}
	}
}

func TestKeyNeverPrints(t *testing.T) {
	k := Key(bytes.Repeat([]byte("secret-bytes"), 4))
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %s %#v %+v", k, k, k, k)} {
		if strings.Contains(s, "secret") || strings.Contains(s, k.Encode()) {
			t.Errorf("the key shows: %s", s)
		}
	}
}

func TestWriteAndReadKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "munge", "munge.key")
	k := GenerateKey()
	if err := WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o400 {
		t.Fatalf("key file mode %v, %v; want 0400", st.Mode(), err)
	}
	if err := WriteKeyFile(path, k); err != nil { // unchanged: left alone
		t.Fatal(err)
	}
	k2 := GenerateKey()
	if err := WriteKeyFile(path, k2); err != nil { // a new key replaces a read-only file
		t.Fatal(err)
	}
	got, err := ReadKeyFile(path)
	if err != nil || !bytes.Equal(got, k2) {
		t.Fatalf("ReadKeyFile = %v", err)
	}
	if _, err := ReadKeyFile(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("a missing key file was read")
	}
}
