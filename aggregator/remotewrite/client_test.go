package remotewrite

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/prompb"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
)

// TestSecretsStayOutOfLogs: the URL's user info and query, and the
// credentials, are sent but never logged or shown.
func TestSecretsStayOutOfLogs(t *testing.T) {
	rcv := newReceiver(t, func(n int, _ *prompb.WriteRequest, w http.ResponseWriter) bool {
		switch n {
		case 1:
			http.Error(w, "boom", http.StatusBadGateway)
			return false
		case 2:
			http.Error(w, "bad", http.StatusUnauthorized)
			return false
		}
		return true
	})
	u := strings.Replace(rcv.url(), "http://", "http://ursula:pa55word@", 1) + "?api_key=qu3rysecret"
	logs := &logBuffer{}
	q := newQueue(t, config.RemoteWrite{URL: u, MaxSamplesPerSend: 5,
		Authorization: &config.Authorization{Type: "Bearer", Credentials: "t0ken"}}, Options{Logger: slogTo(logs)})
	q.Append(seq("a", 0, 5))
	q.flush(context.Background(), true)
	q.Append(seq("b", 0, 5))
	stop := run(q)
	waitFor(t, "delivery", delivered(q))
	stop()
	rcv.srv.Close()
	q.Append(seq("c", 0, 5))
	stop = run(q)
	waitFor(t, "connection refused", func() bool {
		return strings.Contains(q.Status().LastError, "refused")
	})
	stop()

	_, headers, queries := rcv.snapshot()
	if rcv.requests() != 3 || queries[0] != "api_key=qu3rysecret" || headers[0].Get("Authorization") != "Bearer t0ken" {
		t.Errorf("the secrets did not reach the receiver: %v %v", queries, headers)
	}
	st := q.Status()
	shown := logs.String() + st.LastError + st.URL
	for _, secret := range []string{"pa55word", "qu3rysecret", "t0ken", "ursula"} {
		if strings.Contains(shown, secret) {
			t.Errorf("%q leaked:\n%s", secret, shown)
		}
	}
}

// TestBasicAuthOverTLS: basic auth with a password file, to an https
// receiver trusted through tls_config.ca_file.
func TestBasicAuthOverTLS(t *testing.T) {
	type seen struct{ user, password string }
	got := make(chan seen, 10)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		got <- seen{u, p}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pw, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	q := newQueue(t, config.RemoteWrite{URL: srv.URL + "/api/v1/write",
		BasicAuth: &config.BasicAuth{Username: "gpuwd", PasswordFile: pw},
		TLSConfig: config.TLSConfig{CAFile: ca}}, Options{})
	q.Append(seq("a", 0, 3))
	stop := run(q)
	defer stop()
	waitFor(t, "delivery", delivered(q))
	if s := <-got; s != (seen{"gpuwd", "hunter2"}) {
		t.Errorf("basic auth = %+v", s)
	}
	if st := q.Status(); st.LastError != "" {
		t.Errorf("last error: %s", st.LastError)
	}
}
