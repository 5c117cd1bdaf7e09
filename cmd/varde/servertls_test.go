package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// pki makes a CA and the certificates it signs, as PEM files in dir.
type pki struct {
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	n    int64
}

func newPKI(t *testing.T, dir, name string) *pki {
	t.Helper()
	p := &pki{dir: dir}
	p.key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	p.cert, _ = x509.ParseCertificate(der)
	p.write(t, name+".pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return p
}

func (p *pki) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue writes FILE.pem holding a certificate for cn (server or client
// use) followed by its key, as HAProxy's crt wants.
func (p *pki) issue(t *testing.T, file, cn string, client bool) string {
	t.Helper()
	p.n++
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(p.n + 1), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})...)
	return p.write(t, file, data)
}

// TestServerTLSWithHAProxy: HAProxy 2.6 is the TLS server (bind ssl crt,
// client certificates required) and varde its TLS client. varde verifies
// HAProxy's certificate, sends the SNI its sni expression gives, shows its
// client certificate, and its HTTP checks over TLS keep the good server up
// and mark the one whose certificate does not verify down.
func TestServerTLSWithHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and varde")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	dir := t.TempDir()
	ca, rogue := newPKI(t, dir, "ca"), newPKI(t, dir, "rogue")
	serverPEM := ca.issue(t, "backend.pem", "backend.example", false)
	roguePEM := rogue.issue(t, "rogue-backend.pem", "backend.example", false)
	ca.issue(t, "client.pem", "varde-client", true) // read through crt-base
	ports := testenv.FreePorts(t, 3)
	good, bad, front := ports[0], ports[1], ports[2]
	hcfg := fmt.Sprintf(`global
    log stderr format raw local0 err
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend tls_good
    bind 127.0.0.1:%d ssl crt %s ca-file %s verify required
    http-request return status 200 content-type text/plain lf-string "server=good sni=%%[ssl_fc_sni] client=%%[ssl_c_s_dn(CN)] path=%%[path]"
frontend tls_rogue
    bind 127.0.0.1:%d ssl crt %s
    http-request return status 200 content-type text/plain lf-string "server=rogue"
`, good, serverPEM, filepath.Join(dir, "ca.pem"), bad, roguePEM)
	hpath := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(hpath, []byte(hcfg), 0o644)
	_, hlog := testenv.Start(t, haproxy, "-db", "-f", hpath)
	testenv.WaitListening(t, "haproxy", hlog, good, bad)

	sock := filepath.Join(dir, "admin.sock")
	vcfg := fmt.Sprintf(`global
    ca-base %s
    crt-base %s
    stats socket %s level admin
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout check 1s
frontend web
    bind 127.0.0.1:%d
    default_backend app
backend app
    balance roundrobin
    retries 0
    option httpchk GET /health
    default-server ssl ca-file ca.pem crt client.pem check inter 100ms fall 1 rise 1 check-sni backend.example
    server good 127.0.0.1:%d sni req.hdr(host)
    server rogue 127.0.0.1:%d sni req.hdr(host)
`, dir, dir, sock, front, good, bad)
	vpath := filepath.Join(dir, "varde.cfg")
	os.WriteFile(vpath, []byte(vcfg), 0o644)
	_, vlog := testenv.Start(t, bin, "run", "-f", vpath)
	testenv.WaitListening(t, "varde", vlog, front)

	// The rogue server's certificate is not from ca.pem: its checks fail
	// the handshake and mark it down; the good one stays up.
	if err := testenv.Until(10*time.Second, 50*time.Millisecond, func() error {
		st := serverStatus(t, sock)
		if st["good"] != "UP" || !strings.HasPrefix(st["rogue"], "DOWN") {
			return fmt.Errorf("states %v", st)
		}
		return nil
	}); err != nil {
		logs, _ := os.ReadFile(vlog)
		t.Fatalf("%v\n%s", err, logs)
	}
	for i := 0; i < 6; i++ {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/x%d", front, i), nil)
		req.Host = "backend.example"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := fmt.Sprintf("server=good sni=backend.example client=varde-client path=/x%d", i)
		if resp.StatusCode != 200 || string(b) != want {
			t.Fatalf("request %d: %d %q, want %q", i, resp.StatusCode, b, want)
		}
	}
}

// serverStatus reads `show stat` on the admin socket: server name -> status.
func serverStatus(t *testing.T, sock string) map[string]string {
	t.Helper()
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return nil
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(c, "show stat\n")
	out := map[string]string{}
	sc := bufio.NewScanner(c)
	var statusCol int
	for sc.Scan() {
		f := strings.Split(sc.Text(), ",")
		if strings.HasPrefix(sc.Text(), "# ") {
			for i, name := range f {
				if name == "status" {
					statusCol = i
				}
			}
			continue
		}
		if statusCol > 0 && len(f) > statusCol && f[0] == "app" {
			out[f[1]] = f[statusCol]
		}
	}
	return out
}
