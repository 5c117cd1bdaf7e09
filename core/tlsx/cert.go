// Package tlsx is varde's frontend TLS on Go's crypto/tls: certificates
// loaded as HAProxy loads them (crt FILE|DIR, crt-list), picked by SNI,
// HAProxy's version and cipher options mapped to Go's settings, client
// certificates with CRLs, rotated session ticket keys, OCSP stapling, and
// certificates replaced at runtime (set/commit ssl cert). docs/tls.md.
package tlsx

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
)

// Cert is one loaded certificate with its chain, key and staple.
type Cert struct {
	Path  string
	TLS   *tls.Certificate
	Names []string // lower-case CN and DNS SANs (SNI candidates)
}

// LoadCert reads a HAProxy-style PEM file: the certificate, its chain and
// the private key in one file, or the key in FILE.key beside it; an OCSP
// response in FILE.ocsp is checked (ocsp.go) and stapled.
func LoadCert(path string) (*Cert, error) {
	data, keyPEM, err := readPEMPair(path)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", path, err)
	}
	c, err := ParseCert(path, data, keyPEM)
	if err != nil {
		return nil, err
	}
	if ocsp, err := os.ReadFile(path + ".ocsp"); err == nil {
		if len(ocsp) == 0 {
			return nil, fmt.Errorf("certificate %s: %s.ocsp is empty", path, path)
		}
		if err := checkStaple(path, ocsp, c.TLS.Certificate); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", path, err)
		}
		c.TLS.OCSPStaple = ocsp
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("certificate %s: %w", path, err)
	}
	return c, nil
}

// ParseCert builds a Cert from PEM data (certificate and chain) and the PEM
// holding the key (the same bytes when the key is in the file).
func ParseCert(path string, certPEM, keyPEM []byte) (*Cert, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", path, err)
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", path, err)
		}
		pair.Leaf = leaf
	}
	return &Cert{Path: path, TLS: &pair, Names: certNames(leaf)}, nil
}

// readPEMPair reads a HAProxy-style PEM file and the PEM holding its key:
// the same bytes when the key is in the file, else FILE.key beside it
// (HAProxy's ssl-load-extra-files default). Both sides (crt on a bind, crt
// on a server line) load their files through it.
func readPEMPair(path string) (certPEM, keyPEM []byte, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if hasKey(data) {
		return data, data, nil
	}
	if keyPEM, err = os.ReadFile(path + ".key"); err != nil {
		return nil, nil, fmt.Errorf("no private key in the file and none in %s.key", path)
	}
	return data, keyPEM, nil
}

func hasKey(data []byte) bool {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if strings.HasSuffix(b.Type, "PRIVATE KEY") {
			return true
		}
	}
}

// certNames are the names HAProxy indexes a certificate under: its DNS
// SANs and its subject CN.
func certNames(leaf *x509.Certificate) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range append(append([]string{}, leaf.DNSNames...), leaf.Subject.CommonName) {
		n = strings.ToLower(n)
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// skipInDir are the companion files a certificate directory may hold.
var skipInDir = []string{".key", ".ocsp", ".issuer", ".sctl"}

// ExpandCrt lists the certificate files a `crt` argument names: the file,
// or every file of the directory in name order (companions skipped).
func ExpandCrt(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("crt %s: %w", path, err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("crt %s: %w", path, err)
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || hasAnySuffix(name, skipInDir) {
			continue
		}
		out = append(out, filepath.Join(path, name))
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("crt %s: the directory holds no certificate", path)
	}
	return out, nil
}

func hasAnySuffix(s string, sfx []string) bool {
	for _, x := range sfx {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

// Slot holds the current certificate of one file; set/commit ssl cert
// swaps it, and every bind using the file sees the new one at its next
// handshake.
type Slot struct {
	Path string
	cur  atomic.Pointer[Cert]
}

// Cert returns the current certificate.
func (s *Slot) Cert() *Cert { return s.cur.Load() }
