// Package tlstest makes certificates for tests: a CA, server and client
// certificates (ECDSA P-256 or RSA-2048), CRLs, written as HAProxy reads
// them (certificate, chain and key in one PEM file).
package tlstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

var serial atomic.Int64

// CA is a test certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	PEM  []byte
}

// Leaf is an issued certificate.
type Leaf struct {
	Cert    *x509.Certificate
	CertPEM []byte // leaf then CA
	KeyPEM  []byte
}

// Opts describe a certificate to issue.
type Opts struct {
	Subject pkix.Name // CN and more; defaults to CN=DNS[0]
	DNS     []string
	RSA     bool // RSA-2048 instead of ECDSA P-256
	Client  bool // client authentication usage
}

func key(t testing.TB, useRSA bool) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	if useRSA {
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func keyPEM(t testing.TB, k crypto.Signer) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// NewCA makes a self-signed CA.
func NewCA(t testing.TB, cn string) *CA {
	t.Helper()
	k := key(t, false)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &CA{Cert: c, Key: k, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// Issue signs a certificate.
func (ca *CA) Issue(t testing.TB, o Opts) *Leaf {
	t.Helper()
	k := key(t, o.RSA)
	subj := o.Subject
	if subj.CommonName == "" && len(o.DNS) > 0 {
		subj.CommonName = o.DNS[0]
	}
	usage := x509.ExtKeyUsageServerAuth
	if o.Client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: subj, DNSNames: o.DNS,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, k.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	certPEM := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ca.PEM...)
	return &Leaf{Cert: c, CertPEM: certPEM, KeyPEM: keyPEM(t, k)}
}

// Combined is the HAProxy form: certificate, chain and key in one PEM.
func (l *Leaf) Combined() []byte { return append(append([]byte{}, l.CertPEM...), l.KeyPEM...) }

// Write writes the combined PEM to dir/name and returns its path.
func (l *Leaf) Write(t testing.TB, dir, name string) string {
	t.Helper()
	return WriteFile(t, dir, name, l.Combined())
}

// WriteFile writes data to dir/name and returns the path.
func WriteFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// CRL is a PEM CRL of ca revoking the given certificates.
func (ca *CA) CRL(t testing.TB, revoked ...*x509.Certificate) []byte {
	t.Helper()
	var entries []x509.RevocationListEntry
	for _, c := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now()})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(serial.Add(1)), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// OCSP is a DER OCSP response of ca for the certificate, "good", valid
// until next.
func (ca *CA) OCSP(t testing.TB, c *x509.Certificate, next time.Time) []byte {
	t.Helper()
	der, err := ocsp.CreateResponse(ca.Cert, ca.Cert, ocsp.Response{
		Status: ocsp.Good, SerialNumber: c.SerialNumber, ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: next,
	}, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
