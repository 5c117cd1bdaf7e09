package tlsx

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/crypto/ocsp"
)

// checkStaple verifies FILE.ocsp before it is stapled, as HAProxy does at
// load: a DER OCSP response for this certificate, signed by its issuer (or
// a responder the issuer delegated), not past its next update. The issuer
// is the next certificate of the chain, or the one in FILE.issuer.
func checkStaple(path string, der []byte, chain [][]byte) error {
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return err
	}
	issuer, err := stapleIssuer(path, chain)
	if err != nil {
		return fmt.Errorf("%s.ocsp: %w", path, err)
	}
	r, err := ocsp.ParseResponseForCert(der, leaf, issuer)
	if err != nil {
		return fmt.Errorf("%s.ocsp: %w", path, err)
	}
	if !r.NextUpdate.IsZero() && time.Now().After(r.NextUpdate) {
		return fmt.Errorf("%s.ocsp: the response expired at %s", path, r.NextUpdate.UTC().Format(time.RFC3339))
	}
	return nil
}

func stapleIssuer(path string, chain [][]byte) (*x509.Certificate, error) {
	if len(chain) > 1 {
		return x509.ParseCertificate(chain[1])
	}
	data, err := os.ReadFile(path + ".issuer")
	if err != nil {
		return nil, errors.New("no issuer to check it against: put the issuer in the chain or in FILE.issuer")
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s.issuer: no PEM certificate", path)
	}
	return x509.ParseCertificate(b.Bytes)
}
