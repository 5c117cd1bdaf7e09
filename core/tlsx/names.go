package tlsx

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
)

// oidNames are OpenSSL's short names for the attributes of a DN.
var oidNames = map[string]string{
	"2.5.4.6": "C", "2.5.4.8": "ST", "2.5.4.7": "L", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.3": "CN",
	"2.5.4.5": "serialNumber", "1.2.840.113549.1.9.1": "emailAddress", "2.5.4.9": "street",
	"0.9.2342.19200300.100.1.25": "DC", "2.5.4.12": "title", "2.5.4.42": "GN", "2.5.4.4": "SN",
	"0.9.2342.19200300.100.1.1": "UID", "2.5.4.17": "postalCode",
}

// DN formats a certificate's subject (or issuer, with raw) as HAProxy's
// ssl_c_s_dn does by default (OpenSSL's one-line form): /C=FR/O=Example/CN=www,
// in the order of the certificate.
func DN(raw []byte) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &seq); err != nil || len(rest) > 0 {
		return ""
	}
	var b strings.Builder
	for _, rdn := range seq {
		for i, atv := range rdn {
			if i == 0 {
				b.WriteByte('/')
			} else {
				b.WriteByte('+')
			}
			k := oidNames[atv.Type.String()]
			if k == "" {
				k = atv.Type.String()
			}
			b.WriteString(k)
			b.WriteByte('=')
			if s, ok := atv.Value.(string); ok {
				b.WriteString(s)
			}
		}
	}
	return b.String()
}

// SubjectDN is DN of the certificate's subject.
func SubjectDN(c *x509.Certificate) string { return DN(c.RawSubject) }
