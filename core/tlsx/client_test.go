package tlsx

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial int64

func newCA(t *testing.T) *ca {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &ca{c, key}
}

func (c *ca) leaf(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := x509.ParseCertificate(der)
	return l, key
}

func (c *ca) crl(t *testing.T, next time.Time, revoked ...*x509.Certificate) []byte {
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-2 * time.Hour), NextUpdate: next}
	for _, r := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: r.SerialNumber, RevocationTime: time.Now()})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, c.cert, c.key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func file(t *testing.T, name string, data []byte) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVerify: the chain against ca-file and crl-file, then the name: the
// SNI sent, else verifyhost, else none (HAProxy 2.6).
func TestVerify(t *testing.T) {
	root, other := newCA(t), newCA(t)
	good, _ := root.leaf(t, "app.example")
	revoked, _ := root.leaf(t, "old.example")
	stranger, _ := other.leaf(t, "app.example")
	caFile := file(t, "ca.pem", certPEM(root.cert))
	crlFile := file(t, "ok.crl", root.crl(t, time.Now().Add(time.Hour), revoked))
	staleCRL := file(t, "stale.crl", root.crl(t, time.Now().Add(-time.Hour)))
	otherCRL := file(t, "other.crl", other.crl(t, time.Now().Add(time.Hour)))
	cases := []struct {
		name       string
		spec       ClientSpec
		peer       *x509.Certificate
		serverName string
		wantErr    string
	}{
		{"chain ok, no name to check", ClientSpec{}, good, "", ""},
		{"wrong CA", ClientSpec{}, stranger, "", "unknown authority"},
		{"sni matches", ClientSpec{}, good, "app.example", ""},
		{"sni mismatch", ClientSpec{}, good, "x.example", `not valid for "x.example"`},
		{"verifyhost when no sni", ClientSpec{VerifyHost: "x.example"}, good, "", `not valid for "x.example"`},
		{"sni wins over verifyhost", ClientSpec{VerifyHost: "x.example"}, good, "app.example", ""},
		{"crl: not revoked", ClientSpec{CRLFile: crlFile}, good, "", ""},
		{"crl: revoked", ClientSpec{CRLFile: crlFile}, revoked, "", "revoked"},
		{"crl: expired", ClientSpec{CRLFile: staleCRL}, good, "", "no valid CRL"},
		{"crl: none from the issuer", ClientSpec{CRLFile: otherCRL}, good, "", "no valid CRL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Verify, tc.spec.CAFile = true, caFile
			c, err := NewClient(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			err = c.base.VerifyConnection(tls.ConnectionState{PeerCertificates: []*x509.Certificate{tc.peer}, ServerName: tc.serverName})
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestClientVersions(t *testing.T) {
	cases := []struct {
		spec   ClientSpec
		lo, hi uint16
		err    string
	}{
		{ClientSpec{}, tls.VersionTLS12, tls.VersionTLS13, ""},
		{ClientSpec{MinVer: "TLSv1.3"}, tls.VersionTLS13, tls.VersionTLS13, ""},
		{ClientSpec{MaxVer: "TLSv1.2"}, tls.VersionTLS12, tls.VersionTLS12, ""},
		{ClientSpec{Disabled: []string{"ssl-min-ver", "TLSv1.0", "no-tlsv10"}}, tls.VersionTLS11, tls.VersionTLS13, ""},
		{ClientSpec{Disabled: []string{"no-tlsv13"}}, tls.VersionTLS12, tls.VersionTLS12, ""},
		{ClientSpec{MinVer: "TLSv1.3", Disabled: []string{"ssl-min-ver", "TLSv1.0"}}, tls.VersionTLS13, tls.VersionTLS13, ""},
		{ClientSpec{Disabled: []string{"no-tlsv12", "no-tlsv13"}}, 0, 0, "no TLS version"},
		{ClientSpec{MinVer: "TLSv1.1", Disabled: []string{"no-tlsv12"}}, 0, 0, "cannot skip"},
		{ClientSpec{MinVer: "TLSv1.3", MaxVer: "TLSv1.2"}, 0, 0, "no TLS version"},
	}
	for _, tc := range cases {
		lo, hi, _, err := versions(tc.spec)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: err %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil || lo != tc.lo || hi != tc.hi {
			t.Errorf("%+v: %x..%x %v, want %x..%x", tc.spec, lo, hi, err, tc.lo, tc.hi)
		}
	}
}

func FuzzVersions(f *testing.F) {
	f.Add("TLSv1.2", "TLSv1.3", "no-tlsv10 ssl-min-ver TLSv1.0 no-tls-tickets")
	f.Add("", "", "ssl-max-ver")
	f.Fuzz(func(t *testing.T, lo, hi, opts string) {
		a, b, _, err := versions(ClientSpec{MinVer: lo, MaxVer: hi, Disabled: strings.Fields(opts)})
		if err == nil && (a > b || a < tls.VersionTLS10 || b > tls.VersionTLS13) {
			t.Fatalf("range %x..%x", a, b)
		}
	})
}

// TestLoadKeyPair: the key in the PEM, or beside it in FILE.key.
func TestLoadKeyPair(t *testing.T) {
	root := newCA(t)
	l, key := root.leaf(t, "client")
	kd, _ := x509.MarshalECPrivateKey(key)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
	both := file(t, "both.pem", append(certPEM(l), keyPEM...))
	if _, err := LoadKeyPair(both); err != nil {
		t.Fatal(err)
	}
	split := file(t, "split.pem", certPEM(l))
	if _, err := LoadKeyPair(split); err == nil || !strings.Contains(err.Error(), "no private key") {
		t.Fatalf("missing .key: %v", err)
	}
	os.WriteFile(split+".key", keyPEM, 0o600)
	if _, err := LoadKeyPair(split); err != nil {
		t.Fatal(err)
	}
}

func TestNewClientErrors(t *testing.T) {
	for _, tc := range []struct {
		spec ClientSpec
		want string
	}{
		{ClientSpec{Verify: true}, "no CA file specified"},
		{ClientSpec{Verify: true, CAFile: "/nonexistent/ca.pem"}, "ca-file"},
		{ClientSpec{CertFile: "/nonexistent/c.pem"}, "crt"},
		{ClientSpec{Ciphers: "DHE-RSA-AES128-GCM-SHA256"}, "ciphers: "},
	} {
		if _, err := NewClient(tc.spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.spec, err, tc.want)
		}
	}
}

// TestHostMatch: HAProxy's name rules (RFC 6125 wildcards in the leftmost
// label, case-insensitive).
func TestHostMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, host string
		want          bool
	}{
		{"app.example", "APP.example", true},
		{"*.example", "a.example", true},
		{"*.example", "a.b.example", false},
		{"*.example", "example", false},
		{"f*.example", "foo.example", true},
		{"f*.example", "bar.example", false},
		{"*o.example", "foo.example", true},
		{"f*o.example", "fo.example", true},
		{"f*o.example", "f.example", false},
		{"a.*.example", "a.b.example", false},
		{"**.example", "a.example", false},
		{"app.example\x00.evil", "app.example", false},
		{"app.example", "app.example\x00", false},
	} {
		if got := hostMatch(tc.pattern, tc.host); got != tc.want {
			t.Errorf("hostMatch(%q, %q) = %v, want %v", tc.pattern, tc.host, got, tc.want)
		}
	}
}

// TestVerifyNameCN: the Common Name counts (as in HAProxy), even beside
// SANs that do not match.
func TestVerifyNameCN(t *testing.T) {
	root := newCA(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(99), Subject: pkix.Name{CommonName: "legacy.example"}, DNSNames: []string{"other.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, root.cert, &key.PublicKey, root.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	for name, ok := range map[string]bool{"legacy.example": true, "other.example": true, "third.example": false} {
		if err := verifyName(cert, name); (err == nil) != ok {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzHostMatch(f *testing.F) {
	f.Add("*.example", "a.example")
	f.Add("f*o.example", "fo.example")
	f.Fuzz(func(t *testing.T, pattern, host string) {
		if hostMatch(pattern, host) && !strings.Contains(pattern, "*") && !strings.EqualFold(pattern, host) {
			t.Fatalf("%q matched %q without a wildcard", pattern, host)
		}
	})
}
