package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
	"github.com/varde-lb/varde/core/tlsx/tlstest"
)

// TestSSLStatColumnsLikeHAProxy: HAProxy 2.6 and a varde process on the
// same configuration, each given a full handshake, a resumed one, two
// failed ones (cleartext, an unknown protocol version) and a port probe
// (WaitListening connects and closes): `show stat`
// has the same SSL module columns after the "-" separator and the same
// counts in them on the FRONTEND row.
func TestSSLStatColumnsLikeHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and varde")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "Stat CA")
	ca.Issue(t, tlstest.Opts{DNS: []string{"localhost"}}).Write(t, dir, "site.pem")
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer app.Close()
	got := map[string]map[string]string{}
	for _, server := range []string{"haproxy", "varde"} {
		port := testenv.FreePort(t)
		sock := filepath.Join(dir, server+".sock")
		cfg := filepath.Join(dir, server+".cfg")
		os.WriteFile(cfg, []byte(fmt.Sprintf(`global
    stats socket %s level admin
defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
frontend fe
    bind 127.0.0.1:%d ssl crt %s/site.pem
    default_backend app
backend app
    server s1 %s
`, sock, port, dir, strings.TrimPrefix(app.URL, "http://"))), 0o644)
		var log string
		if server == "haproxy" {
			_, log = testenv.Start(t, haproxy, "-db", "-f", cfg)
		} else {
			_, log = testenv.Start(t, testenv.VardeBinary(t), "run", "-f", cfg)
		}
		testenv.WaitListening(t, server, log, port)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		sslTraffic(t, addr, ca.Cert)
		time.Sleep(100 * time.Millisecond) // the counters of the last close
		got[server] = sslColumns(t, sock)
	}
	// ssl_sess counts full handshakes only; ssl_failed_handshake includes
	// WaitListening's probe (a connection closed before its ClientHello),
	// which HAProxy counts.
	want := map[string]string{"ssl_sess": "1", "ssl_reused_sess": "1", "ssl_failed_handshake": "3"}
	for _, server := range []string{"haproxy", "varde"} {
		for k, v := range want {
			if got[server][k] != v {
				t.Errorf("%s %s = %q, want %q (all: %v)", server, k, got[server][k], v, got[server])
			}
		}
	}
}

// sslTraffic makes a completed handshake, a resumed one (TLS 1.2: both
// servers resume it) and two failures.
func sslTraffic(t *testing.T, addr string, ca *x509.Certificate) {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	cfg := &tls.Config{ServerName: "localhost", RootCAs: roots, MaxVersion: tls.VersionTLS12,
		ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	for i := range 2 {
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		io.ReadAll(c)
		if c.ConnectionState().DidResume != (i == 1) {
			t.Errorf("connection %d: resumed %v", i, c.ConnectionState().DidResume)
		}
		c.Close()
	}
	for _, hello := range []string{"GET / HTTP/1.1\r\n\r\n", "\x16\x03\x00\x00\x05\x01\x00\x00\x01\x00"} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, hello)
		io.ReadAll(c)
		c.Close()
	}
}

// sslColumns reads the FRONTEND row's columns after the "-" separator.
func sslColumns(t *testing.T, sock string) map[string]string {
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "show stat\n")
	b, _ := io.ReadAll(c)
	lines := strings.Split(string(b), "\n")
	header := strings.Split(strings.TrimPrefix(lines[0], "# "), ",")
	out := map[string]string{}
	for _, l := range lines[1:] {
		cells := strings.Split(l, ",")
		if len(cells) < 2 || cells[1] != "FRONTEND" {
			continue
		}
		sep := false
		for i, h := range header {
			if h == "-" {
				sep = true
			} else if sep && strings.HasPrefix(h, "ssl_") && i < len(cells) {
				out[h] = cells[i]
			}
		}
	}
	return out
}
