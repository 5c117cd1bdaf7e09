package tlsx

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"time"
)

// loadCRLs reads a crl-file: PEM X509 CRL blocks, or one DER CRL.
func loadCRLs(path string) ([]*x509.RevocationList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("crl-file %s: %w", path, err)
	}
	var out []*x509.RevocationList
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "X509 CRL" {
			continue
		}
		crl, err := x509.ParseRevocationList(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("crl-file %s: %w", path, err)
		}
		out = append(out, crl)
	}
	if len(out) == 0 {
		crl, err := x509.ParseRevocationList(data)
		if err != nil {
			return nil, fmt.Errorf("crl-file %s: no CRL in it", path)
		}
		out = append(out, crl)
	}
	return out, nil
}

// checkCRLs applies the CRLs as OpenSSL's CRL_CHECK|CRL_CHECK_ALL, which
// HAProxy sets with crl-file: every certificate of the verified chain but
// the trust anchor needs a valid CRL from its issuer, and must not be in it.
func checkCRLs(cs tls.ConnectionState, crls []*x509.RevocationList) error {
	if len(cs.VerifiedChains) == 0 {
		return nil // no client certificate (verify optional)
	}
	chain := cs.VerifiedChains[0]
	now := time.Now()
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		crl := crlFor(crls, issuer)
		if crl == nil {
			return fmt.Errorf("tls: no CRL for the issuer of %q", cert.Subject.String())
		}
		if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
			return fmt.Errorf("tls: the CRL of %q has expired", issuer.Subject.String())
		}
		for _, r := range crl.RevokedCertificateEntries {
			if r.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return fmt.Errorf("tls: certificate %q is revoked", cert.Subject.String())
			}
		}
	}
	return nil
}

func crlFor(crls []*x509.RevocationList, issuer *x509.Certificate) *x509.RevocationList {
	for _, c := range crls {
		if bytes.Equal(c.RawIssuer, issuer.RawSubject) && c.CheckSignatureFrom(issuer) == nil {
			return c
		}
	}
	return nil
}
