package tlsx

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/tlsx/tlstest"
)

func TestParseCiphers(t *testing.T) {
	names := func(ids []uint16) string {
		var out []string
		for _, id := range ids {
			out = append(out, CipherName(id))
		}
		slices.Sort(out)
		return strings.Join(out, ":")
	}
	for _, tt := range []struct{ in, want, err string }{
		{in: "ECDHE-RSA-AES128-GCM-SHA256", want: "ECDHE-RSA-AES128-GCM-SHA256"},
		{in: "ECDHE+AESGCM", want: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"},
		{in: "ECDHE+AESGCM:!ECDSA", want: "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"},
		{in: "ECDHE+CHACHA20", want: "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"},
		// Mozilla intermediate minus its DHE suites.
		{in: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305",
			want: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"},
		// HIGH keeps what Go has (no 3DES: MEDIUM), !aNULL and !MD5 remove nothing Go has.
		{in: "HIGH:!aNULL:!MD5:!kRSA:!SHA1:!SHA256", want: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"},
		{in: "-ALL:ECDHE-RSA-AES256-GCM-SHA384:+AES:@STRENGTH", want: "ECDHE-RSA-AES256-GCM-SHA384"},
		{in: "DEFAULT:!RSA", want: names(func() []uint16 {
			var ids []uint16
			for _, i := range defaultSuites() {
				ids = append(ids, suites[i].id)
			}
			return ids
		}())},
		{in: "PROFILE=SYSTEM", want: names(func() []uint16 { ids, _ := ParseCiphers("DEFAULT"); return ids }())},
		// A named suite Go lacks is not offered (see TestParseCiphersDropped); a
		// string left with nothing Go implements is refused.
		{in: "ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256", want: "ECDHE-RSA-AES128-GCM-SHA256"},
		{in: "DHE+AESGCM", err: `cipher "DHE+AESGCM": selects no cipher suite Go implements`},
		{in: "RC4-SHA", err: `cipher "RC4-SHA": selects no cipher suite Go implements`},
		{in: "DHE-RSA-AES128-GCM-SHA256:!DHE", err: `selects no cipher suite Go implements`},
		{in: "ECDHE+FOO", err: `selects no cipher suite Go implements`}, // FOO: nothing, as in OpenSSL
		{in: "ECDHE+SUITEB128", err: `"SUITEB128" is not a cipher or alias varde knows`},
		{in: "HIGH:@SECLEVEL=2", err: `cipher "@SECLEVEL=2": Go's TLS has no equivalent`},
		{in: "!aNULL", err: "selects no cipher suite Go implements"},
		{in: "", err: "empty cipher string"},
	} {
		ids, err := ParseCiphers(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseCiphers(%q) = %v, want error %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || names(ids) != tt.want {
			t.Errorf("ParseCiphers(%q) = %s, %v\nwant %s", tt.in, names(ids), err, tt.want)
		}
	}
}

// TestParseCiphersDropped: the suites a string names outright that Go lacks
// named (for the configuration's warning), minus those removed again.
func TestParseCiphersDropped(t *testing.T) {
	for _, tt := range []struct{ in, dropped string }{
		{"ECDHE+AESGCM", ""},
		{mozillaIntermediate, "DHE-RSA-AES128-GCM-SHA256,DHE-RSA-AES256-GCM-SHA384,DHE-RSA-CHACHA20-POLY1305"},
		{"ECDHE+AESGCM:DH+AESGCM:-DHE-DSS-AES128-GCM-SHA256:!DHE-DSS-AES256-GCM-SHA384", ""},
		{"ECDHE-RSA-AES128-SHA:RC4-SHA:CAMELLIA128-SHA", "CAMELLIA128-SHA,RC4-SHA"},
	} {
		ids, dropped, err := ParseCiphersDropped(tt.in)
		slices.Sort(dropped)
		if err != nil || len(ids) == 0 || strings.Join(dropped, ",") != tt.dropped {
			t.Errorf("ParseCiphersDropped(%q) = %d suites, dropped %q, %v; want dropped %q", tt.in, len(ids), dropped, err, tt.dropped)
		}
	}
}

const mozillaIntermediate = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

func TestCheckCipherSuites(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256", true},
		{"TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256", true},
		{"TLS_AES_128_GCM_SHA256", false},
		{"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256", false},
	} {
		if err := CheckCipherSuites(tt.in); (err == nil) != tt.ok {
			t.Errorf("CheckCipherSuites(%q) = %v", tt.in, err)
		}
	}
}

func TestVersions(t *testing.T) {
	for _, tt := range []struct {
		bind, defs []string
		lo, hi     uint16
		err        string
	}{
		{lo: tls.VersionTLS12, hi: tls.VersionTLS13},
		{bind: []string{"ssl-min-ver TLSv1.3"}, lo: tls.VersionTLS13, hi: tls.VersionTLS13},
		{defs: []string{"ssl-min-ver TLSv1.0", "no-tlsv11"}, bind: []string{"no-tlsv10"}, lo: tls.VersionTLS12, hi: tls.VersionTLS13},
		{defs: []string{"ssl-min-ver TLSv1.0"}, lo: tls.VersionTLS10, hi: tls.VersionTLS13},
		{bind: []string{"force-tlsv12"}, lo: tls.VersionTLS12, hi: tls.VersionTLS12},
		{bind: []string{"ssl-min-ver TLSv1.1", "no-tlsv12"}, err: "contiguous"},
		{bind: []string{"no-tlsv12", "no-tlsv13"}, err: "no version"},
	} {
		v := versionsOf(tt.bind).Merge(versionsOf(tt.defs))
		lo, hi, err := v.Range()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v/%v: err %v, want %q", tt.bind, tt.defs, err, tt.err)
			}
			continue
		}
		if err != nil || lo != tt.lo || hi != tt.hi {
			t.Errorf("%v/%v: %x-%x %v, want %x-%x", tt.bind, tt.defs, lo, hi, err, tt.lo, tt.hi)
		}
	}
}

func versionsOf(opts []string) Versions {
	var v Versions
	for _, o := range opts {
		name, arg, _ := strings.Cut(o, " ")
		if _, err := v.Option(name, arg); err != nil {
			panic(err)
		}
	}
	return v
}

func TestParseCrtLine(t *testing.T) {
	for _, tt := range []struct {
		in   string
		file string
		opts bool
		f, x []string
		err  string
	}{
		{in: "# comment"},
		{in: "site.pem", file: "site.pem"},
		{in: "site.pem www.example.com *.example.org !bad.example.org", file: "site.pem", f: []string{"www.example.com", "*.example.org"}, x: []string{"bad.example.org"}},
		{in: "site.pem [alpn http/1.1 ssl-min-ver TLSv1.3 verify required ca-file ca.pem] WWW.Example.com", file: "site.pem", opts: true, f: []string{"www.example.com"}},
		{in: "site.pem [ alpn http/1.1 ]", file: "site.pem", opts: true},
		{in: "site.pem [ocsp-update on]", err: `crt-list option "ocsp-update" is not supported`},
		{in: "site.pem [alpn http/1.1", err: "missing ']'"},
		{in: "site.pem [ciphers DHE-RSA-AES128-SHA]", err: "selects no cipher suite Go implements"},
		{in: "site.pem [ssl-min-ver SSLv3]", err: "SSLv3"},
		{in: "site.pem a*.example.com", err: "invalid SNI filter"},
	} {
		l, ok, err := ParseCrtLine(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || ok != (tt.file != "") || l.File != tt.file || l.Opts.Set != tt.opts || !slices.Equal(l.Filters, tt.f) || !slices.Equal(l.Excluded, tt.x) {
			t.Errorf("%q: %+v ok=%v err=%v", tt.in, l, ok, err)
		}
	}
}

// handshake runs a Go client against the bind over a pipe and returns the
// server certificate's CN, or the error.
func handshake(t *testing.T, b *Bind, cfg *tls.Config) (string, error) {
	t.Helper()
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	srv := tls.Server(c2, b.Config())
	errc := make(chan error, 1)
	go func() {
		srv.SetDeadline(time.Now().Add(5 * time.Second))
		err := srv.Handshake()
		if err == nil {
			_, err = srv.Write([]byte("x")) // TLS 1.3: the client learns here
		}
		errc <- err
		srv.Close()
	}()
	cli := tls.Client(c1, cfg)
	cli.SetDeadline(time.Now().Add(5 * time.Second))
	if err := cli.Handshake(); err != nil {
		return "", err
	}
	cli.Read(make([]byte, 1))
	if err := <-errc; err != nil {
		return "", err
	}
	return cli.ConnectionState().PeerCertificates[0].Subject.CommonName, nil
}

func TestSNISelection(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "Test CA")
	certs := filepath.Join(dir, "certs")
	os.Mkdir(certs, 0o700)
	ca.Issue(t, tlstest.Opts{DNS: []string{"default.test"}}).Write(t, certs, "0-default.pem")
	ca.Issue(t, tlstest.Opts{DNS: []string{"www.example.com"}}).Write(t, certs, "1-www.pem")
	ca.Issue(t, tlstest.Opts{DNS: []string{"*.example.org"}}).Write(t, certs, "2-wild.pem")
	ca.Issue(t, tlstest.Opts{Subject: pkix.Name{CommonName: "multi"}, DNS: []string{"a.example.net", "b.example.net"}}).Write(t, certs, "3-san.pem")
	rsa := ca.Issue(t, tlstest.Opts{Subject: pkix.Name{CommonName: "rsa.example.com"}, DNS: []string{"dual.example.com"}, RSA: true})
	ec := ca.Issue(t, tlstest.Opts{Subject: pkix.Name{CommonName: "ec.example.com"}, DNS: []string{"dual.example.com"}})
	rsaPath := rsa.Write(t, dir, "rsa.pem")
	ecPath := ec.Write(t, dir, "ec.pem")
	// key in FILE.key beside the certificate
	tlstest.WriteFile(t, certs, "4-split.pem", ca.Issue(t, tlstest.Opts{DNS: []string{"split.test"}}).CertPEM)
	split := ca.Issue(t, tlstest.Opts{DNS: []string{"split.test"}})
	tlstest.WriteFile(t, certs, "4-split.pem", split.CertPEM)
	tlstest.WriteFile(t, certs, "4-split.pem.key", split.KeyPEM)

	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	reg := NewRegistry()
	b, err := reg.Build(&Options{Crts: []string{certs, rsaPath, ecPath}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		sni, want string
		rsaOnly   bool
	}{
		{"www.example.com", "www.example.com", false},
		{"WWW.EXAMPLE.COM", "www.example.com", false},
		{"x.example.org", "*.example.org", false},
		{"b.example.net", "multi", false},
		{"split.test", "split.test", false},
		{"unknown.test", "default.test", false},
		{"", "default.test", false},
		{"dual.example.com", "rsa.example.com", true},
		{"dual.example.com", "rsa.example.com", false}, // first loaded wins when both fit
	} {
		cfg := &tls.Config{ServerName: tt.sni, RootCAs: pool, InsecureSkipVerify: tt.sni == "" || tt.sni == "unknown.test"}
		if tt.rsaOnly {
			cfg.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
			cfg.MaxVersion = tls.VersionTLS12
		}
		got, err := handshake(t, b, cfg)
		if err != nil || got != tt.want {
			t.Errorf("SNI %q: got %q, %v; want %q", tt.sni, got, err, tt.want)
		}
	}
	// An ECDSA-only client gets the ECDSA certificate of a dual name.
	cfg := &tls.Config{ServerName: "dual.example.com", RootCAs: pool, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}
	if got, err := handshake(t, b, cfg); err != nil || got != "ec.example.com" {
		t.Errorf("ECDSA-only client: %q %v", got, err)
	}

	strict, err := NewRegistry().Build(&Options{Crts: []string{certs}, StrictSNI: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(t, strict, &tls.Config{ServerName: "unknown.test", InsecureSkipVerify: true}); err == nil {
		t.Error("strict-sni: unknown name accepted")
	}
	if got, err := handshake(t, strict, &tls.Config{ServerName: "www.example.com", RootCAs: pool}); err != nil || got != "www.example.com" {
		t.Errorf("strict-sni known name: %q %v", got, err)
	}
}

func TestCrtListAndReplace(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "Test CA")
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	ca.Issue(t, tlstest.Opts{DNS: []string{"one.test"}}).Write(t, dir, "one.pem")
	ca.Issue(t, tlstest.Opts{DNS: []string{"two.test", "hidden.test"}}).Write(t, dir, "two.pem")
	ca.Issue(t, tlstest.Opts{DNS: []string{"*.wild.test"}}).Write(t, dir, "wild.pem")
	list := tlstest.WriteFile(t, dir, "list.txt", []byte("# certificates\none.pem [alpn http/1.1 ssl-min-ver TLSv1.3]\n\ntwo.pem !hidden.test\nwild.pem *.wild.test !no.wild.test\n"))
	reg := NewRegistry()
	b, err := reg.Build(&Options{CrtLists: []string{list}, CrtBase: dir, ALPN: []string{"http/1.0"}})
	if err != nil {
		t.Fatal(err)
	}
	// one.test's line: TLS 1.3 only.
	if _, err := handshake(t, b, &tls.Config{ServerName: "one.test", RootCAs: pool, MaxVersion: tls.VersionTLS12}); err == nil {
		t.Error("one.test accepted TLS 1.2 despite ssl-min-ver TLSv1.3 on its line")
	}
	if got, err := handshake(t, b, &tls.Config{ServerName: "one.test", RootCAs: pool, NextProtos: []string{"http/1.1"}}); err != nil || got != "one.test" {
		t.Errorf("one.test: %q %v", got, err)
	}
	// !hidden.test: the default (first line) answers it.
	if got, _ := handshake(t, b, &tls.Config{ServerName: "hidden.test", InsecureSkipVerify: true}); got != "one.test" {
		t.Errorf("hidden.test excluded but got %q", got)
	}
	// !no.wild.test keeps the wildcard line from answering it, as HAProxy.
	if got, _ := handshake(t, b, &tls.Config{ServerName: "x.wild.test", RootCAs: pool}); got != "*.wild.test" {
		t.Errorf("x.wild.test: %q", got)
	}
	if got, _ := handshake(t, b, &tls.Config{ServerName: "no.wild.test", InsecureSkipVerify: true}); got != "one.test" {
		t.Errorf("no.wild.test excluded but got %q", got)
	}
	// Replace two.pem: new names take effect at the next handshake.
	next := ca.Issue(t, tlstest.Opts{DNS: []string{"three.test"}})
	c, err := ParseCert(filepath.Join(dir, "two.pem"), next.CertPEM, next.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Replace(filepath.Join(dir, "two.pem"), c); err != nil {
		t.Fatal(err)
	}
	if got, err := handshake(t, b, &tls.Config{ServerName: "three.test", RootCAs: pool}); err != nil || got != "three.test" {
		t.Errorf("after replace: %q %v", got, err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "Test CA")
	a := ca.Issue(t, tlstest.Opts{DNS: []string{"a.test"}})
	b := ca.Issue(t, tlstest.Opts{DNS: []string{"b.test"}})
	mismatch := tlstest.WriteFile(t, dir, "mismatch.pem", append(append([]byte{}, a.CertPEM...), b.KeyPEM...))
	nokey := tlstest.WriteFile(t, dir, "nokey.pem", a.CertPEM)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o700)
	for _, tt := range []struct {
		o   Options
		err string
	}{
		{Options{Crts: []string{filepath.Join(dir, "missing.pem")}}, "no such file"},
		{Options{Crts: []string{mismatch}}, "private key does not match"},
		{Options{Crts: []string{nokey}}, "no private key"},
		{Options{Crts: []string{empty}}, "holds no certificate"},
		{Options{Crts: []string{a.Write(t, dir, "a.pem")}, Verify: "required"}, "needs ca-file"},
		{Options{Crts: []string{a.Write(t, dir, "a.pem")}, Verify: "required", CAFile: filepath.Join(dir, "nope")}, "ca-file"},
	} {
		if _, err := NewRegistry().Build(&tt.o); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%+v: err %v, want %q", tt.o, err, tt.err)
		}
	}
}

func TestClientCertificatesAndCRL(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "Client CA")
	srv := ca.Issue(t, tlstest.Opts{DNS: []string{"srv.test"}}).Write(t, dir, "srv.pem")
	caFile := tlstest.WriteFile(t, dir, "ca.pem", ca.PEM)
	good := ca.Issue(t, tlstest.Opts{Subject: pkix.Name{Country: []string{"FR"}, Organization: []string{"Example"}, CommonName: "alice"}, Client: true})
	bad := ca.Issue(t, tlstest.Opts{Subject: pkix.Name{CommonName: "mallory"}, Client: true})
	crl := tlstest.WriteFile(t, dir, "ca.crl", ca.CRL(t, bad.Cert))
	b, err := NewRegistry().Build(&Options{Crts: []string{srv}, Verify: "required", CAFile: caFile, CRLFile: crl})
	if err != nil {
		t.Fatal(err)
	}
	pair := func(l *tlstest.Leaf) []tls.Certificate {
		c, err := tls.X509KeyPair(l.CertPEM, l.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{c}
	}
	if _, err := handshake(t, b, &tls.Config{InsecureSkipVerify: true}); err == nil {
		t.Error("verify required: no certificate accepted")
	}
	if _, err := handshake(t, b, &tls.Config{InsecureSkipVerify: true, Certificates: pair(good)}); err != nil {
		t.Errorf("good client certificate: %v", err)
	}
	if _, err := handshake(t, b, &tls.Config{InsecureSkipVerify: true, Certificates: pair(bad)}); err == nil {
		t.Error("revoked client certificate accepted")
	}
	if got := SubjectDN(good.Cert); got != "/C=FR/O=Example/CN=alice" {
		t.Errorf("SubjectDN = %q", got)
	}
}

func TestTicketRotation(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "CA")
	reg := NewRegistry()
	if _, err := reg.Build(&Options{Crts: []string{ca.Issue(t, tlstest.Opts{DNS: []string{"a"}}).Write(t, dir, "a.pem")}}); err != nil {
		t.Fatal(err)
	}
	reg.StartTickets()
	defer reg.StopTickets()
	for i := 0; i < 5; i++ {
		reg.rotate()
	}
	if n := reg.TicketKeyCount(); n != ticketKeys {
		t.Errorf("%d ticket keys, want %d", n, ticketKeys)
	}
}

func FuzzParseCrtLine(f *testing.F) {
	for _, s := range []string{"site.pem", "a.pem [alpn h2,http/1.1 verify optional] *.x.com !y.x.com", "b [ ]", "[", "x [ciphers HIGH:!aNULL]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, ok, err := ParseCrtLine(s)
		if err == nil && ok && l.File == "" {
			t.Fatalf("%q: line without a file", s)
		}
	})
}

func FuzzParseCiphers(f *testing.F) {
	for _, s := range []string{"HIGH:!aNULL", "ECDHE+AESGCM", "DEFAULT:-RSA", "ECDHE-RSA-AES128-GCM-SHA256", "@STRENGTH", "!", "+", mozillaIntermediate, "DHE-RSA-AES128-GCM-SHA256:-DHE:ECDHE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := ParseCiphers(s)
		if err == nil && len(ids) == 0 {
			t.Fatalf("%q: no error and no suite", s)
		}
		for _, id := range ids {
			if id == 0 {
				t.Fatalf("%q: a suite Go lacks was selected", s)
			}
		}
		_, dropped, derr := ParseCiphersDropped(s)
		if (derr == nil) != (err == nil) {
			t.Fatalf("%q: ParseCiphers and ParseCiphersDropped disagree: %v / %v", s, err, derr)
		}
		for _, name := range dropped {
			for _, id := range ids {
				if CipherName(id) == name {
					t.Fatalf("%q: %s is both offered and reported dropped", s, name)
				}
			}
		}
		CheckCipherSuites(s)
	})
}

// FILE.ocsp beside a certificate is stapled as is.
func TestOCSPStaple(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "CA")
	leaf := ca.Issue(t, tlstest.Opts{DNS: []string{"ocsp.test"}})
	crt := leaf.Write(t, dir, "site.pem")
	staple := ca.OCSP(t, leaf.Cert, time.Now().Add(time.Hour))
	tlstest.WriteFile(t, dir, "site.pem.ocsp", staple)
	b, err := NewRegistry().Build(&Options{Crts: []string{crt}})
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := net.Pipe()
	defer c1.Close()
	go func() {
		s := tls.Server(c2, b.Config())
		s.Handshake()
		s.Close()
	}()
	cli := tls.Client(c1, &tls.Config{ServerName: "ocsp.test", InsecureSkipVerify: true})
	cli.SetDeadline(time.Now().Add(5 * time.Second))
	if err := cli.Handshake(); err != nil {
		t.Fatal(err)
	}
	if got := cli.ConnectionState().OCSPResponse; string(got) != string(staple) {
		t.Errorf("stapled %x, want %x", got, staple)
	}
	other := ca.Issue(t, tlstest.Opts{DNS: []string{"other.test"}})
	for _, tt := range []struct {
		name string
		der  []byte
		err  string
	}{
		{"empty", nil, "ocsp is empty"},
		{"garbage", []byte("\x30\x03\x0a\x01\x00"), "site.pem.ocsp"},
		{"another certificate's", ca.OCSP(t, other.Cert, time.Now().Add(time.Hour)), "site.pem.ocsp"},
		{"expired", ca.OCSP(t, leaf.Cert, time.Now().Add(-time.Minute)), "expired"},
		{"signed by another CA", tlstest.NewCA(t, "Other").OCSP(t, leaf.Cert, time.Now().Add(time.Hour)), "site.pem.ocsp"},
	} {
		tlstest.WriteFile(t, dir, "site.pem.ocsp", tt.der)
		if _, err := NewRegistry().Build(&Options{Crts: []string{crt}}); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s .ocsp: %v, want %q", tt.name, err, tt.err)
		}
	}
}

func TestCurves(t *testing.T) {
	if ids, err := ParseCurves("X25519:prime256v1:secp384r1"); err != nil || !slices.Equal(ids, []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}) {
		t.Errorf("ParseCurves = %v, %v", ids, err)
	}
	if _, err := ParseCurves("X448"); err == nil || !strings.Contains(err.Error(), `curve "X448": Go's TLS does not implement it`) {
		t.Errorf("X448: %v", err)
	}
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "CA")
	crt := ca.Issue(t, tlstest.Opts{DNS: []string{"c.test"}}).Write(t, dir, "c.pem")
	b, err := NewRegistry().Build(&Options{Crts: []string{crt}, Curves: "secp384r1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(t, b, &tls.Config{ServerName: "c.test", InsecureSkipVerify: true, CurvePreferences: []tls.CurveID{tls.X25519}}); err == nil {
		t.Error("curves secp384r1: an X25519-only client was served")
	}
	if _, err := handshake(t, b, &tls.Config{ServerName: "c.test", InsecureSkipVerify: true, CurvePreferences: []tls.CurveID{tls.CurveP384}}); err != nil {
		t.Errorf("curves secp384r1: a P-384 client failed: %v", err)
	}
}

// DN formats subjects of client certificates: any bytes must give a
// string, never a panic.
func FuzzDN(f *testing.F) {
	ca := tlstest.NewCA(f, "CA")
	f.Add(ca.Cert.RawSubject)
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, raw []byte) {
		_ = DN(raw)
	})
}

// A crt-list line's verify/ca-file apply to its names only.
func TestCrtListLineVerify(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "CA")
	ca.Issue(t, tlstest.Opts{DNS: []string{"open.test"}}).Write(t, dir, "open.pem")
	ca.Issue(t, tlstest.Opts{DNS: []string{"mtls.test"}}).Write(t, dir, "mtls.pem")
	tlstest.WriteFile(t, dir, "ca.pem", ca.PEM)
	list := tlstest.WriteFile(t, dir, "list.txt", []byte("open.pem\nmtls.pem [verify required ca-file ca.pem]\n"))
	b, err := NewRegistry().Build(&Options{CrtLists: []string{list}, CrtBase: dir, CABase: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(t, b, &tls.Config{ServerName: "open.test", InsecureSkipVerify: true}); err != nil {
		t.Errorf("open.test without a client certificate: %v", err)
	}
	if _, err := handshake(t, b, &tls.Config{ServerName: "mtls.test", InsecureSkipVerify: true}); err == nil {
		t.Error("mtls.test (verify required on its line) served without a client certificate")
	}
	cl := ca.Issue(t, tlstest.Opts{Subject: pkix.Name{CommonName: "c"}, Client: true})
	pair, _ := tls.X509KeyPair(cl.CertPEM, cl.KeyPEM)
	if _, err := handshake(t, b, &tls.Config{ServerName: "mtls.test", InsecureSkipVerify: true, Certificates: []tls.Certificate{pair}}); err != nil {
		t.Errorf("mtls.test with a client certificate: %v", err)
	}
}
