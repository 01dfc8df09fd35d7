package agent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns a
// pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "gpuwd-agent test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLSWithToken(t *testing.T) {
	cert, key, pool := selfSigned(t)
	a := serve(t, Options{Simulate: "h100x1", TLSCertFile: cert, TLSKeyFile: key, MetricsToken: "tls-token"})
	if !strings.HasPrefix(a.url, "https://") {
		t.Fatal(a.url)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, body := do(t, client, "GET", a.url+"/metrics", "Authorization", "Bearer tls-token")
	if resp.StatusCode != 200 || resp.TLS == nil || !strings.Contains(body, "DCGM_FI_DEV_GPU_UTIL{") {
		t.Fatalf("HTTPS scrape: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	// Plain HTTP to the TLS port is refused, not served.
	plain, err := http.Get(strings.Replace(a.url, "https://", "http://", 1) + "/metrics")
	if err == nil {
		defer plain.Body.Close()
		if plain.StatusCode == 200 {
			t.Error("plain HTTP served metrics on the TLS port")
		}
	}
}

func TestTLSWithABadCertificateIsRefusedAtStart(t *testing.T) {
	_, key, _ := selfSigned(t)
	bad := filepath.Join(t.TempDir(), "bad.pem")
	_ = os.WriteFile(bad, []byte("not a certificate"), 0o600)
	_, err := New(Options{Simulate: "h100x1", SampleInterval: time.Second, TLSCertFile: bad, TLSKeyFile: key, Hostname: "x"}, discardLogger())
	if err == nil || !strings.Contains(err.Error(), "--tls-cert-file") {
		t.Errorf("New with a bad certificate: %v", err)
	}
}
