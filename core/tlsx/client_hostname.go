package tlsx

import (
	"crypto/x509"
	"fmt"
	"strings"
)

// verifyName checks the server certificate's names against name as
// HAProxy does: every DNS subjectAltName, then every subject Common Name
// (HAProxy reads the CN even when SANs exist; Go's VerifyHostname never
// does), each matched with RFC 6125's rules: case-insensitive, and one
// '*' allowed in the leftmost label only, standing for at least nothing
// within that one label. IP subjectAltNames are not consulted, as in
// HAProxy.
func verifyName(cert *x509.Certificate, name string) error {
	for _, n := range cert.DNSNames {
		if hostMatch(n, name) {
			return nil
		}
	}
	for _, n := range cnValues(cert) {
		if hostMatch(n, name) {
			return nil
		}
	}
	return fmt.Errorf("x509: certificate is not valid for %q (names %v, CN %q)", name, cert.DNSNames, cert.Subject.CommonName)
}

// cnValues lists every Common Name of the subject (a certificate may hold
// several).
func cnValues(cert *x509.Certificate) []string {
	var out []string
	for _, atv := range cert.Subject.Names {
		if atv.Type.Equal([]int{2, 5, 4, 3}) {
			if s, ok := atv.Value.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// hostMatch reports whether pattern (a certificate name) covers host.
func hostMatch(pattern, host string) bool {
	if strings.ContainsRune(pattern, 0) || strings.ContainsRune(host, 0) {
		return false // a NUL would let a truncated name match
	}
	if strings.EqualFold(pattern, host) {
		return true
	}
	pDot := strings.IndexByte(pattern, '.')
	hDot := strings.IndexByte(host, '.')
	if pDot < 0 || hDot < 0 {
		return false
	}
	left := pattern[:pDot]
	star := strings.IndexByte(left, '*')
	if star < 0 || strings.Count(left, "*") > 1 {
		return false
	}
	if !strings.EqualFold(pattern[pDot:], host[hDot:]) {
		return false
	}
	hLeft := host[:hDot]
	prefix, suffix := left[:star], left[star+1:]
	if len(hLeft) < len(prefix)+len(suffix) {
		return false
	}
	return strings.EqualFold(hLeft[:len(prefix)], prefix) && strings.EqualFold(hLeft[len(hLeft)-len(suffix):], suffix)
}
