package munge

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// munged refuses keys shorter than MinKeyBytes; GenerateKey makes
// KeyBytes, as mungekey does.
const (
	MinKeyBytes = 32
	KeyBytes    = 1024
)

// Key is a munge key. Its String never shows the bytes.
type Key []byte

func (Key) String() string     { return "<munge key>" }
func (k Key) GoString() string { return k.String() }

// Encode is the form GPUWD_MUNGE_KEY takes.
func (k Key) Encode() string { return base64.StdEncoding.EncodeToString(k) }

// ParseKey decodes a base64 key (standard or URL alphabet, padded or not,
// whitespace ignored).
func ParseKey(s string) (Key, error) {
	s = strings.Join(strings.Fields(s), "")
	if s == "" {
		return nil, errors.New("munge key is empty")
	}
	var b []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errors.New("munge key is not base64 (make one with: gpuwd-agent munge-key)")
	}
	return checked(b)
}

// ReadKeyFile reads a raw key file, as mungekey writes them.
func ReadKeyFile(path string) (Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("munge key file: %w", err)
	}
	k, err := checked(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func checked(b []byte) (Key, error) {
	if len(b) < MinKeyBytes {
		return nil, fmt.Errorf("munge key has %d bytes; munged needs at least %d", len(b), MinKeyBytes)
	}
	return Key(b), nil
}

// GenerateKey makes a new random key.
func GenerateKey() Key {
	b := make([]byte, KeyBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return Key(b)
}

// WriteKeyFile writes k to path (mode 0400, its directory 0700) unless the
// file already holds exactly k.
func WriteKeyFile(path string, k Key) error {
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, k) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	_ = os.Remove(tmp)
	if err := os.WriteFile(tmp, k, 0o400); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
