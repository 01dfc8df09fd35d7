package receivers

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"

	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// configHash is the SHA-256 of an endpoint's resolved configuration: its
// kind, the configuration (where secrets show as <secret>) and the
// secrets' values, inline and read from their files now,
// so a rotated webhook URL changes the hash and re-enables an endpoint the
// service disabled. Only the hash is kept; the values never leave here.
func configHash(kind string, conf any, secrets ...secret.Secret) string {
	h := sha256.New()
	field := func(b []byte) {
		_ = binary.Write(h, binary.BigEndian, uint64(len(b)))
		h.Write(b)
	}
	field([]byte(kind))
	c, err := json.Marshal(conf)
	if err != nil {
		c = []byte(err.Error())
	}
	field(c)
	for _, s := range secrets {
		field([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fileSecret is a secret file's content now; empty when unset or
// unreadable (the notifier reports a missing file when it sends).
func fileSecret(path string) secret.Secret {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return secret.Secret(bytes.TrimSpace(b))
}
