package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
	"github.com/varde-lb/varde/core/tlsx/tlstest"
)

// tlsEnv is one varde process with TLS frontends in front of a backend
// that echoes what varde told it, and the certificates behind them.
type tlsEnv struct {
	dir                       string
	ca, clientCA              *tlstest.CA
	plain, main, strict, mtls int
	old, metrics, h2          int
	sock                      string
	log                       string
	client                    *tlstest.Leaf
}

const tlsCfg = `global
    stats socket {DIR}/admin.sock level admin
    crt-base {DIR}
    ssl-default-bind-options no-sslv3 no-tlsv10
    log file@{DIR}/access.log anonymize none local0
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend plain
    bind 127.0.0.1:{PLAIN}
    http-request redirect scheme https unless { ssl_fc }
    default_backend echo
frontend main
    bind 127.0.0.1:{MAIN} ssl crt certs crt rsa.pem alpn http/1.1
    log global
    log-format "TLSLOG %ft %sslv %sslc %[ssl_fc]"
    http-request set-header X-SNI %[ssl_fc_sni]
    http-request set-header X-Proto %[ssl_fc_protocol]
    http-request set-header X-Cipher %[ssl_fc_cipher]
    http-request set-header X-ALPN %[ssl_fc_alpn]
    http-request set-header X-TLS %[ssl_fc]
    acl sni_www ssl_fc_sni -i www.example.com
    http-request set-header X-Routed www if sni_www
    default_backend echo
frontend strict
    bind 127.0.0.1:{STRICT} ssl crt-list {DIR}/list.txt strict-sni
    default_backend echo
frontend mtls
    bind 127.0.0.1:{MTLS} ssl crt certs verify required ca-file {DIR}/clientca.pem
    http-request set-header X-Verify %[ssl_c_verify]
    http-request set-header X-DN %[ssl_c_s_dn]
    http-request set-header X-Used %[ssl_c_used]
    default_backend echo
frontend metrics
    bind 127.0.0.1:{METRICS}
    http-request use-service prometheus-exporter if { path /metrics }
    default_backend echo
frontend old
    bind 127.0.0.1:{OLD} ssl crt certs ssl-min-ver TLSv1.0
    default_backend echo
frontend h2
    bind 127.0.0.1:{H2} ssl crt certs alpn h2,http/1.1
    http-request set-header X-SNI %[ssl_fc_sni]
    http-request set-header X-ALPN %[ssl_fc_alpn]
    http-request set-header X-TLS %[ssl_fc]
    default_backend echo
backend echo
    server s1 {BACKEND}
`

func startTLSEnv(t *testing.T) *tlsEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("starts varde")
	}
	testenv.LookTool(t, "curl", "curl")
	testenv.LookTool(t, "openssl", "openssl")
	bin := testenv.VardeBinary(t)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range []string{"X-SNI", "X-Proto", "X-Cipher", "X-ALPN", "X-TLS", "X-Verify", "X-DN", "X-Used", "X-Routed"} {
			if v := r.Header.Get(h); v != "" {
				fmt.Fprintf(w, "%s=%s\n", strings.ToLower(h[2:]), v)
			}
		}
	}))
	t.Cleanup(be.Close)
	e := &tlsEnv{dir: t.TempDir(), ca: tlstest.NewCA(t, "Varde Test CA"), clientCA: tlstest.NewCA(t, "Client CA")}
	certs := filepath.Join(e.dir, "certs")
	os.Mkdir(certs, 0o700)
	e.ca.Issue(t, tlstest.Opts{DNS: []string{"default.test"}}).Write(t, certs, "0-default.pem")
	e.ca.Issue(t, tlstest.Opts{DNS: []string{"www.example.com"}}).Write(t, certs, "1-www.pem")
	wild := e.ca.Issue(t, tlstest.Opts{DNS: []string{"*.example.org"}})
	wild.Write(t, certs, "2-wild.pem")
	tlstest.WriteFile(t, certs, "2-wild.pem.ocsp", e.ca.OCSP(t, wild.Cert, time.Now().Add(time.Hour)))
	e.ca.Issue(t, tlstest.Opts{Subject: pkix.Name{CommonName: "multi"}, DNS: []string{"a.example.net", "b.example.net"}}).Write(t, certs, "3-san.pem")
	e.ca.Issue(t, tlstest.Opts{DNS: []string{"rsa.example.com"}, RSA: true}).Write(t, e.dir, "rsa.pem")
	tlstest.WriteFile(t, e.dir, "ca.pem", e.ca.PEM)
	tlstest.WriteFile(t, e.dir, "list.txt", []byte("# crt-list\ncerts/1-www.pem\ncerts/2-wild.pem [ssl-min-ver TLSv1.3 alpn http/1.1] *.example.org !no.example.org\n"))
	tlstest.WriteFile(t, e.dir, "clientca.pem", e.clientCA.PEM)
	e.client = e.clientCA.Issue(t, tlstest.Opts{Subject: pkix.Name{Country: []string{"FR"}, Organization: []string{"Example"}, CommonName: "alice"}, Client: true})
	tlstest.WriteFile(t, e.dir, "client.crt", e.client.CertPEM)
	tlstest.WriteFile(t, e.dir, "client.key", e.client.KeyPEM)

	ports := testenv.FreePorts(t, 7)
	e.plain, e.main, e.strict, e.mtls, e.old, e.metrics, e.h2 = ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6]
	e.sock = filepath.Join(e.dir, "admin.sock")
	cfg := strings.NewReplacer("{DIR}", e.dir, "{PLAIN}", fmt.Sprint(e.plain), "{MAIN}", fmt.Sprint(e.main),
		"{STRICT}", fmt.Sprint(e.strict), "{MTLS}", fmt.Sprint(e.mtls), "{OLD}", fmt.Sprint(e.old), "{METRICS}", fmt.Sprint(e.metrics), "{H2}", fmt.Sprint(e.h2),
		"{BACKEND}", strings.TrimPrefix(be.URL, "http://")).Replace(tlsCfg)
	path := tlstest.WriteFile(t, e.dir, "haproxy.cfg", []byte(cfg))
	_, e.log = testenv.Start(t, bin, "run", "-f", path)
	testenv.WaitListening(t, "varde", e.log, ports...)
	return e
}

// curl runs curl against a TLS frontend and returns its stdout and error.
func (e *tlsEnv) curl(t *testing.T, port int, host string, extra ...string) (string, error) {
	t.Helper()
	args := append([]string{"-sS", "--max-time", "5", "--cacert", filepath.Join(e.dir, "ca.pem"),
		"--resolve", fmt.Sprintf("%s:%d:127.0.0.1", host, port)}, extra...)
	args = append(args, fmt.Sprintf("https://%s:%d/", host, port))
	out, err := exec.Command("curl", args...).CombinedOutput()
	return string(out), err
}

// sClient runs openssl s_client and returns its whole output.
func sClient(t *testing.T, port int, args ...string) string {
	t.Helper()
	cmd := exec.Command("openssl", append([]string{"s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port)}, args...)...)
	cmd.Stdin = strings.NewReader("")
	done := make(chan struct{})
	var out []byte
	go func() { out, _ = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	return string(out)
}

// subject is the CN of the certificate s_client printed.
func subject(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(l, "subject="); ok {
			if i := strings.Index(s, "CN = "); i >= 0 {
				return s[i+5:]
			}
			if i := strings.Index(s, "CN="); i >= 0 {
				return s[i+3:]
			}
		}
	}
	return ""
}

func TestTLSFrontend(t *testing.T) {
	e := startTLSEnv(t)
	t.Run("curl over TLS with fetches", func(t *testing.T) {
		out, err := e.curl(t, e.main, "www.example.com", "--http1.1", "--tlsv1.3")
		if err != nil {
			t.Fatalf("curl: %v\n%s", err, out)
		}
		for _, want := range []string{"sni=www.example.com", "proto=TLSv1.3", "cipher=TLS_", "alpn=http/1.1", "tls=1", "routed=www"} {
			if !strings.Contains(out, want) {
				t.Errorf("response lacks %q:\n%s", want, out)
			}
		}
		out, err = e.curl(t, e.main, "www.example.com", "--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256")
		if err != nil || !strings.Contains(out, "proto=TLSv1.2") || !strings.Contains(out, "cipher=ECDHE-ECDSA-AES128-GCM-SHA256") {
			t.Errorf("TLS 1.2: %v\n%s", err, out)
		}
	})
	t.Run("log-format %sslv %sslc", func(t *testing.T) {
		var b []byte
		testenv.Until(5*time.Second, 50*time.Millisecond, func() error {
			b, _ = os.ReadFile(filepath.Join(e.dir, "access.log"))
			if !strings.Contains(string(b), "TLSLOG main~ TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 1") {
				return fmt.Errorf("not yet")
			}
			return nil
		})
		if !strings.Contains(string(b), "TLSLOG main~ TLSv1.3 TLS_") || !strings.Contains(string(b), "TLSLOG main~ TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 1") {
			t.Errorf("access log:\n%s", b)
		}
	})
	t.Run("SNI picks the certificate", func(t *testing.T) {
		for _, tt := range []struct{ sni, want string }{
			{"www.example.com", "www.example.com"},
			{"x.example.org", "*.example.org"},
			{"b.example.net", "multi"},
			{"rsa.example.com", "rsa.example.com"},
			{"unknown.test", "default.test"},
		} {
			if got := subject(sClient(t, e.main, "-servername", tt.sni)); got != tt.want {
				t.Errorf("SNI %s: certificate %q, want %q", tt.sni, got, tt.want)
			}
		}
		if got := subject(sClient(t, e.main, "-noservername")); got != "default.test" {
			t.Errorf("no SNI: certificate %q, want the default", got)
		}
	})
	t.Run("OCSP stapling", func(t *testing.T) {
		out := sClient(t, e.main, "-servername", "x.example.org", "-status")
		if !strings.Contains(out, "OCSP Response Status: successful") || !strings.Contains(out, "Cert Status: good") {
			t.Errorf("no staple for x.example.org:\n%s", out)
		}
		if out := sClient(t, e.main, "-servername", "www.example.com", "-status"); !strings.Contains(out, "OCSP response: no response sent") {
			t.Errorf("a staple for a certificate without .ocsp:\n%s", out)
		}
	})
	t.Run("strict-sni", func(t *testing.T) {
		if out := sClient(t, e.strict, "-servername", "unknown.test"); subject(out) != "" || !strings.Contains(out, "alert") {
			t.Errorf("strict-sni served an unknown name:\n%s", out)
		}
		if got := subject(sClient(t, e.strict, "-servername", "www.example.com")); got != "www.example.com" {
			t.Errorf("strict-sni known name: %q", got)
		}
		// crt-list: the wildcard line's own options and its !filter.
		if out := sClient(t, e.strict, "-servername", "x.example.org", "-tls1_3", "-alpn", "http/1.1"); subject(out) != "*.example.org" || !strings.Contains(out, "ALPN protocol: http/1.1") {
			t.Errorf("crt-list wildcard line over TLS 1.3:\n%s", out)
		}
		if out := sClient(t, e.strict, "-servername", "x.example.org", "-tls1_2"); subject(out) != "" {
			t.Errorf("crt-list line with ssl-min-ver TLSv1.3 accepted TLS 1.2:\n%s", out)
		}
		if out := sClient(t, e.strict, "-servername", "no.example.org"); subject(out) != "" {
			t.Errorf("!no.example.org served under strict-sni:\n%s", out)
		}
	})
	t.Run("ALPN", func(t *testing.T) {
		if out := sClient(t, e.main, "-servername", "www.example.com", "-alpn", "h2,http/1.1"); !strings.Contains(out, "ALPN protocol: http/1.1") {
			t.Errorf("ALPN h2,http/1.1 did not pick http/1.1:\n%s", out)
		}
		if out := sClient(t, e.main, "-servername", "www.example.com", "-alpn", "h2"); strings.Contains(out, "ALPN protocol: h2") {
			t.Errorf("h2 negotiated though the bind advertises http/1.1 only:\n%s", out)
		}
	})
	t.Run("ALPN h2 serves HTTP/2 over TLS", func(t *testing.T) {
		out, err := e.curl(t, e.h2, "www.example.com", "--http2", "-w", "version=%{http_version}\n")
		if err != nil {
			t.Fatalf("curl --http2: %v\n%s", err, out)
		}
		for _, want := range []string{"version=2", "alpn=h2", "tls=1", "sni=www.example.com"} {
			if !strings.Contains(out, want) {
				t.Errorf("HTTP/2 over TLS lacks %q:\n%s", want, out)
			}
		}
		out, err = e.curl(t, e.h2, "www.example.com", "--http1.1", "-w", "version=%{http_version}\n")
		if err != nil || !strings.Contains(out, "version=1.1") || !strings.Contains(out, "alpn=http/1.1") {
			t.Errorf("HTTP/1.1 on the same bind: %v\n%s", err, out)
		}
	})
	t.Run("redirect scheme https unless ssl_fc", func(t *testing.T) {
		out, err := exec.Command("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-H", "Host: www.example.com",
			fmt.Sprintf("http://127.0.0.1:%d/a?b=1", e.plain)).CombinedOutput()
		if err != nil || string(out) != "302 https://www.example.com/a?b=1" {
			t.Errorf("plain: %v %q", err, out)
		}
	})
	t.Run("client certificates", func(t *testing.T) {
		if out, err := e.curl(t, e.mtls, "www.example.com"); err == nil {
			t.Errorf("verify required: served without a client certificate:\n%s", out)
		}
		out, err := e.curl(t, e.mtls, "www.example.com", "--cert", filepath.Join(e.dir, "client.crt"), "--key", filepath.Join(e.dir, "client.key"))
		if err != nil || !strings.Contains(out, "verify=0") || !strings.Contains(out, "dn=/C=FR/O=Example/CN=alice") || !strings.Contains(out, "used=1") {
			t.Errorf("with a client certificate: %v\n%s", err, out)
		}
		other := tlstest.NewCA(t, "Other").Issue(t, tlstest.Opts{Subject: pkix.Name{CommonName: "eve"}, Client: true})
		tlstest.WriteFile(t, e.dir, "eve.crt", other.CertPEM)
		tlstest.WriteFile(t, e.dir, "eve.key", other.KeyPEM)
		if out, err := e.curl(t, e.mtls, "www.example.com", "--cert", filepath.Join(e.dir, "eve.crt"), "--key", filepath.Join(e.dir, "eve.key")); err == nil {
			t.Errorf("a certificate from another CA was accepted:\n%s", out)
		}
		// Both refusals are counted (Prometheus), none on the main frontend.
		m, _ := exec.Command("curl", "-sS", fmt.Sprintf("http://127.0.0.1:%d/metrics", e.metrics)).CombinedOutput()
		if out := string(m); !strings.Contains(out, `varde_frontend_ssl_handshake_failures_total{proxy="mtls"} 2`) {
			t.Errorf("metrics lack 2 mtls handshake failures:\n%s", grepLines(out, "ssl_handshake"))
		}
	})
	t.Run("resumption", func(t *testing.T) {
		for _, v := range []string{"-tls1_2", "-tls1_3"} {
			sess := filepath.Join(e.dir, "sess"+v)
			first := sClient(t, e.main, "-servername", "www.example.com", v, "-sess_out", sess)
			if !strings.Contains(first, "New,") {
				t.Fatalf("%s first connection:\n%s", v, first)
			}
			if again := sClient(t, e.main, "-servername", "www.example.com", v, "-sess_in", sess); !strings.Contains(again, "Reused,") {
				t.Errorf("%s: session not resumed:\n%s", v, again)
			}
		}
	})
	t.Run("minimum version", func(t *testing.T) {
		// The client is told to allow TLS 1.1 (SECLEVEL 0): the refusal
		// must come from varde, as the positive control on "old" shows.
		out := sClient(t, e.main, "-servername", "www.example.com", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
		if !strings.Contains(out, "alert protocol version") || subject(out) != "" {
			t.Errorf("TLS 1.1 accepted by default:\n%s", out)
		}
		if out := sClient(t, e.old, "-servername", "www.example.com", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"); !strings.Contains(out, "TLSv1.1") {
			t.Errorf("ssl-min-ver TLSv1.0 bind refused TLS 1.1:\n%s", out)
		}
	})
	t.Run("HAProxy as TLS client", func(t *testing.T) {
		e.haproxyClient(t)
	})
	t.Run("admin socket replaces a certificate", func(t *testing.T) {
		e.swapCert(t)
	})
}

// haproxyClient puts HAProxy 2.6 in front of varde's TLS bind (server ...
// ssl verify required sni): HAProxy must verify varde's certificate for
// the SNI it sends, and the request must cross.
func (e *tlsEnv) haproxyClient(t *testing.T) {
	ha := testenv.LookTool(t, "haproxy", "haproxy")
	port := testenv.FreePort(t)
	cfg := fmt.Sprintf(`defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:%d
    default_backend b
backend b
    server v 127.0.0.1:%d ssl verify required ca-file %s sni str(www.example.com) alpn http/1.1
`, port, e.main, filepath.Join(e.dir, "ca.pem"))
	path := tlstest.WriteFile(t, t.TempDir(), "haproxy.cfg", []byte(cfg))
	_, log := testenv.Start(t, ha, "-db", "-f", path)
	testenv.WaitListening(t, "haproxy", log, port)
	out, err := exec.Command("curl", "-sS", "--max-time", "5", fmt.Sprintf("http://127.0.0.1:%d/", port)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "sni=www.example.com") || !strings.Contains(string(out), "alpn=http/1.1") {
		logs, _ := os.ReadFile(log)
		t.Errorf("through HAProxy: %v %q\n%s", err, out, logs)
	}
}

func (e *tlsEnv) swapCert(t *testing.T) {
	file := filepath.Join(e.dir, "certs", "1-www.pem")
	next := e.ca.Issue(t, tlstest.Opts{Subject: pkix.Name{CommonName: "www.example.com", Organization: []string{"Second"}}, DNS: []string{"www.example.com"}})
	pool := x509.NewCertPool()
	pool.AddCert(e.ca.Cert)
	serial := func() string {
		c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", e.main), &tls.Config{ServerName: "www.example.com", RootCAs: pool})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := serial()
	if out := adminCmd(t, e.sock, "set ssl cert "+file+" <<\n"+string(next.Combined())+"\n"); !strings.Contains(out, "Transaction created") {
		t.Fatalf("set ssl cert: %q", out)
	}
	if out := adminCmd(t, e.sock, "abort ssl cert "+file+"\n"); !strings.Contains(out, "Transaction aborted") {
		t.Fatalf("abort ssl cert: %q", out)
	}
	if out := adminCmd(t, e.sock, "commit ssl cert "+file+"\n"); !strings.Contains(out, "No ongoing transaction") || serial() != before {
		t.Fatalf("commit after abort: %q", out)
	}
	if out := adminCmd(t, e.sock, "set ssl cert "+file+" <<\n"+string(next.Combined())+"\n"); !strings.Contains(out, "Transaction created for certificate "+file) {
		t.Fatalf("set ssl cert: %q", out)
	}
	if out := adminCmd(t, e.sock, "show ssl cert\n"); !strings.Contains(out, "*"+file) {
		t.Errorf("show ssl cert lacks the transaction: %q", out)
	}
	if serial() != before {
		t.Fatal("certificate changed before commit")
	}
	if out := adminCmd(t, e.sock, "commit ssl cert "+file+"\n"); !strings.Contains(out, "Success!") {
		t.Fatalf("commit ssl cert: %q", out)
	}
	if got := serial(); got != next.Cert.SerialNumber.String() {
		t.Errorf("after commit the handshake shows serial %s, want %s", got, next.Cert.SerialNumber)
	}
	if out := adminCmd(t, e.sock, "show ssl cert "+file+"\n"); !strings.Contains(out, "Subject: /O=Second/CN=www.example.com") {
		t.Errorf("show ssl cert FILE: %q", out)
	}
	if out := adminCmd(t, e.sock, "set ssl cert /nope.pem <<\n"+string(next.Combined())+"\n"); !strings.Contains(out, "not referenced") {
		t.Errorf("unknown file: %q", out)
	}
}

// adminCmd sends one request to the admin socket and returns the answer.
func adminCmd(t *testing.T, sock, req string) string {
	t.Helper()
	// The stats socket opens after the listeners (the admin subsystem
	// starts after the engine): a caller that waited for a port may come
	// before it exists.
	var c net.Conn
	err := testenv.Until(10*time.Second, 20*time.Millisecond, func() (err error) {
		c, err = net.DialTimeout("unix", sock, 2*time.Second)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, req)
	b, _ := io.ReadAll(bufio.NewReader(c))
	return string(b)
}

var (
	authCertOnce sync.Once
	authCert     []byte
)

// authorityCert is a certificate and key for the authority table's
// "{CERT}" data files.
func authorityCert(t *testing.T) []byte {
	authCertOnce.Do(func() {
		ca := tlstest.NewCA(t, "Authority CA")
		authCert = ca.Issue(t, tlstest.Opts{DNS: []string{"localhost"}}).Combined()
	})
	return authCert
}

// dataFile expands the authority table's certificate placeholders.
func dataFile(t *testing.T, src string) string {
	switch src {
	case "{CERT}":
		return string(authorityCert(t))
	case "{CERTONLY}":
		c := string(authorityCert(t))
		return c[:strings.Index(c, "-----BEGIN PRIVATE KEY")]
	}
	return src
}

// withSeedCerts returns the seed file itself, or, when it names the
// seeds' certificate paths, a copy pointing at generated certificates.
func withSeedCerts(t *testing.T, f string) string {
	t.Helper()
	src, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), "/etc/ssl/certs/") {
		return f
	}
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "certs"), 0o700)
	tlstest.WriteFile(t, dir, "server.pem", authorityCert(t))
	tlstest.WriteFile(t, filepath.Join(dir, "certs"), "server.pem", authorityCert(t))
	out := strings.NewReplacer("/etc/ssl/certs/server.pem", filepath.Join(dir, "server.pem"), "/etc/ssl/certs/", filepath.Join(dir, "certs")+"/").Replace(string(src))
	return tlstest.WriteFile(t, dir, filepath.Base(f), []byte(out))
}

// The TLS seed article003-1 runs with a generated certificate and answers
// HTTPS (its ports, socket and servers moved to loopback).
func TestTLSSeedRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts varde")
	}
	bin := testenv.VardeBinary(t)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "seed backend") }))
	defer be.Close()
	f := withSeedCerts(t, "../../examples/seeds/article003-1-haproxy.cfg")
	src, _ := os.ReadFile(f)
	ports := testenv.FreePorts(t, 2)
	addr := strings.TrimPrefix(be.URL, "http://")
	cfg := strings.NewReplacer("*:80\n", fmt.Sprintf("127.0.0.1:%d\n", ports[0]), "*:443", fmt.Sprintf("127.0.0.1:%d", ports[1]),
		"/run/haproxy/admin.sock", filepath.Join(t.TempDir(), "admin.sock"),
		"192.168.1.10:80", addr, "192.168.1.11:80", addr, "192.168.1.12:80", addr).Replace(string(src))
	// The seed switches to the haproxy user; this test is about its TLS
	// lines, and the test binary (cgo) cannot switch (TestPrivilegeDrop
	// covers that with a cgo-free build): drop the user/group lines.
	cfg = regexp.MustCompile(`(?m)^[ \t]*(user|group)[ \t].*\n`).ReplaceAllString(cfg, "")
	path := tlstest.WriteFile(t, t.TempDir(), "seed.cfg", []byte(cfg))
	_, log := testenv.Start(t, bin, "run", "-f", path)
	testenv.WaitListening(t, "varde", log, ports...)
	out, err := exec.Command("curl", "-sSk", "--max-time", "5", fmt.Sprintf("https://127.0.0.1:%d/", ports[1])).CombinedOutput()
	if err != nil || string(out) != "seed backend" {
		logs, _ := os.ReadFile(log)
		t.Fatalf("HTTPS through the seed: %v %q\n%s", err, out, logs)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// testssl.sh on a bind with no TLS option at all: no SSLv2/SSLv3/TLS 1.0/
// TLS 1.1, forward secrecy offered, no vulnerability above LOW (LUCKY13 is
// reported LOW for the CBC suites of Go's default set; docs/tls.md).
func TestTestsslDefaultConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("testssl.sh takes about a minute")
	}
	ts := testenv.LookTool(t, "testssl", "testssl.sh")
	bin := testenv.VardeBinary(t)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer be.Close()
	dir := t.TempDir()
	crt := tlstest.NewCA(t, "CA").Issue(t, tlstest.Opts{DNS: []string{"localhost"}}).Write(t, dir, "site.pem")
	port := testenv.FreePort(t)
	cfg := fmt.Sprintf("defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n    bind 127.0.0.1:%d ssl crt %s\n    default_backend b\nbackend b\n    server s %s\n",
		port, crt, strings.TrimPrefix(be.URL, "http://"))
	_, log := testenv.Start(t, bin, "run", "-f", tlstest.WriteFile(t, dir, "haproxy.cfg", []byte(cfg)))
	testenv.WaitListening(t, "varde", log, port)
	out := filepath.Join(dir, "testssl.json")
	cmd := exec.Command(ts, "--quiet", "--color", "0", "--warnings", "off", "-p", "-f", "-U", "--jsonfile-pretty", out,
		fmt.Sprintf("127.0.0.1:%d", port))
	if b, err := cmd.CombinedOutput(); err != nil && !fileExists(out) {
		t.Fatalf("testssl: %v\n%s", err, b)
	}
	var res struct {
		ScanResult []struct {
			Protocols, PFS, Vulnerabilities []struct{ ID, Severity, Finding string }
		} `json:"scanResult"`
	}
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &res); err != nil || len(res.ScanResult) != 1 {
		t.Fatalf("testssl output: %v\n%s", err, b)
	}
	r := res.ScanResult[0]
	seen := 0
	for _, p := range r.Protocols {
		switch p.ID {
		case "SSLv2", "SSLv3", "TLS1", "TLS1_1":
			seen++
			if !strings.HasPrefix(p.Finding, "not offered") {
				t.Errorf("%s: %s", p.ID, p.Finding)
			}
		case "TLS1_2", "TLS1_3":
			seen++
			if !strings.HasPrefix(p.Finding, "offered") {
				t.Errorf("%s: %s", p.ID, p.Finding)
			}
		}
	}
	if seen != 6 {
		t.Errorf("testssl reported %d of 6 protocols: %+v", seen, r.Protocols)
	}
	if len(r.PFS) == 0 || r.PFS[0].ID != "PFS" || r.PFS[0].Severity != "OK" {
		t.Errorf("forward secrecy: %+v", r.PFS)
	}
	if len(r.Vulnerabilities) < 10 {
		t.Errorf("only %d vulnerability checks ran", len(r.Vulnerabilities))
	}
	for _, v := range r.Vulnerabilities {
		if v.Severity != "OK" && v.Severity != "INFO" && v.Severity != "LOW" {
			t.Errorf("%s: %s %s", v.ID, v.Severity, v.Finding)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
