// The client side of TLS (client*.go): the configuration varde uses
// towards servers (`server ... ssl`), built once per server when a
// configuration is prepared, so every file and setting error is found by
// `varde check`.

package tlsx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// ClientSpec is a server line's TLS settings, as haproxy.cfg wrote them
// (paths already joined with ca-base/crt-base).
type ClientSpec struct {
	Verify     bool   // verify required
	CAFile     string // trusted roots; required when Verify
	CRLFile    string
	CertFile   string // client certificate and key (PEM), shown when asked
	VerifyHost string // name checked when no SNI was sent
	ServerName string // static SNI ("" = none or set per connection)
	ALPN       string // comma-separated
	MinVer     string // TLSv1.0 .. TLSv1.3; "" = Go's client default (TLS 1.2)
	MaxVer     string
	// Disabled are ssl-default-server-options as written (no-tlsv10, ...,
	// no-tls-tickets, ssl-min-ver V, ssl-max-ver V); the line's own
	// MinVer/MaxVer win over them.
	Disabled []string
	Ciphers  string // OpenSSL list of TLS <= 1.2 suites, exact names only
	NoReuse  bool   // no-ssl-reuse: no session resumption
}

// SettingError names the server option an error comes from, so that
// `varde check` reports it under that keyword.
type SettingError struct {
	Setting string // ca-file, crl-file, crt, ciphers, ssl-min-ver, verify
	Err     error
}

func (e *SettingError) Error() string { return e.Setting + ": " + e.Err.Error() }
func (e *SettingError) Unwrap() error { return e.Err }

// Client is a server's prepared TLS configuration.
type Client struct {
	base *tls.Config
}

// sessionCacheSize bounds the resumable sessions kept per server: one
// per SNI value in practice.
const sessionCacheSize = 64

// NewClient loads the files and maps the settings of spec; an error names
// the setting at fault.
func NewClient(spec ClientSpec) (*Client, error) {
	cfg := &tls.Config{
		ServerName: spec.ServerName,
		// Verification is VerifyConnection's: HAProxy checks the name
		// only when one was sent (SNI) or configured (verifyhost), which
		// Go's built-in check cannot express.
		InsecureSkipVerify: true,
	}
	if spec.ALPN != "" {
		cfg.NextProtos = strings.Split(spec.ALPN, ",")
	}
	var err error
	if cfg.MinVersion, cfg.MaxVersion, cfg.SessionTicketsDisabled, err = versions(spec); err != nil {
		return nil, &SettingError{"ssl-min-ver", err}
	}
	if spec.Ciphers != "" {
		if cfg.CipherSuites, err = ParseCiphers(spec.Ciphers); err != nil {
			return nil, &SettingError{"ciphers", err}
		}
	}
	if spec.CertFile != "" {
		cert, err := LoadKeyPair(spec.CertFile)
		if err != nil {
			return nil, &SettingError{"crt", err}
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if spec.Verify {
		v, err := newVerifier(spec)
		if err != nil {
			return nil, err
		}
		cfg.VerifyConnection = v.verify
	}
	if !spec.NoReuse && !cfg.SessionTicketsDisabled {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(sessionCacheSize)
	}
	return &Client{base: cfg}, nil
}

// Config is the configuration for one connection: sni, when not empty,
// is the name sent (and verified) instead of the static one. The static
// configuration is shared; a per-connection name costs one copy.
func (c *Client) Config(sni string) *tls.Config {
	if sni == "" || sni == c.base.ServerName {
		return c.base
	}
	cfg := c.base.Clone()
	cfg.ServerName = sni
	return cfg
}

// WithOverrides returns a client for health checks: another SNI and ALPN
// (check-sni, check-alpn), sharing the verification and certificates.
func (c *Client) WithOverrides(sni, alpn string) *Client {
	cfg := c.base.Clone()
	cfg.ServerName = sni
	if alpn != "" {
		cfg.NextProtos = strings.Split(alpn, ",")
	}
	return &Client{base: cfg}
}

// versions resolves the protocol range: the line's ssl-min-ver and
// ssl-max-ver, else ssl-default-server-options (whose no-tlsvXX options
// must leave one contiguous range, as Go cannot skip a version).
func versions(spec ClientSpec) (lo, hi uint16, noTickets bool, err error) {
	off := map[uint16]bool{}
	var dmin, dmax string
	for i := 0; i < len(spec.Disabled); i++ {
		switch o := spec.Disabled[i]; o {
		case "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13":
			off[versionOf["TLSv1."+o[len(o)-1:]]] = true
		case "no-tls-tickets":
			noTickets = true
		case "ssl-min-ver", "ssl-max-ver":
			if i+1 < len(spec.Disabled) {
				i++
				if o == "ssl-min-ver" {
					dmin = spec.Disabled[i]
				} else {
					dmax = spec.Disabled[i]
				}
			}
		}
	}
	lo, hi = tls.VersionTLS12, tls.VersionTLS13
	for _, v := range []struct {
		name string
		dst  *uint16
	}{{firstOf(spec.MinVer, dmin), &lo}, {firstOf(spec.MaxVer, dmax), &hi}} {
		if v.name == "" {
			continue
		}
		n, ok := versionOf[v.name]
		if !ok {
			return 0, 0, false, fmt.Errorf("ssl-min-ver/ssl-max-ver: unknown TLS version %q", v.name)
		}
		*v.dst = n
	}
	for lo <= hi && off[lo] {
		lo++
	}
	for hi >= lo && off[hi] {
		hi--
	}
	if lo > hi {
		return 0, 0, false, errors.New("ssl-min-ver/ssl-max-ver and no-tlsvXX leave no TLS version to speak")
	}
	for v := lo; v <= hi; v++ {
		if off[v] {
			return 0, 0, false, fmt.Errorf("no-tlsvXX disables %s inside the allowed range: Go's TLS cannot skip a version", versionName(v))
		}
	}
	return lo, hi, noTickets, nil
}

var versionOf = map[string]uint16{
	"TLSv1.0": tls.VersionTLS10, "TLSv1.1": tls.VersionTLS11, "TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13,
}

func versionName(v uint16) string {
	for k, n := range versionOf {
		if n == v {
			return k
		}
	}
	return fmt.Sprintf("0x%04x", v)
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// LoadKeyPair reads a certificate chain and its private key from one PEM
// file, as HAProxy's crt; a key missing from it is read from FILE.key
// (HAProxy's ssl-load-extra-files default).
func LoadKeyPair(file string) (tls.Certificate, error) {
	data, keyData, err := readPEMPair(file)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: %w", file, err)
	}
	cert, err := tls.X509KeyPair(data, keyData)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: %w", file, err)
	}
	return cert, nil
}

// verifier checks a server's chain against ca-file (and crl-file), then
// its name: the SNI sent, else verifyhost, else none (HAProxy 2.6).
type verifier struct {
	roots      *x509.CertPool
	crls       []*x509.RevocationList
	verifyHost string
}

func newVerifier(spec ClientSpec) (*verifier, error) {
	if spec.CAFile == "" {
		return nil, &SettingError{"verify", errors.New("verify is enabled but no CA file specified")}
	}
	data, err := os.ReadFile(spec.CAFile)
	if err != nil {
		return nil, &SettingError{"ca-file", err}
	}
	v := &verifier{roots: x509.NewCertPool(), verifyHost: spec.VerifyHost}
	if !v.roots.AppendCertsFromPEM(data) {
		return nil, &SettingError{"ca-file", fmt.Errorf("%s: no PEM certificate in it", spec.CAFile)}
	}
	if spec.CRLFile != "" {
		if v.crls, err = loadCRLs(spec.CRLFile); err != nil {
			return nil, &SettingError{"crl-file", err}
		}
	}
	return v, nil
}

func (v *verifier) verify(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: server sent no certificate")
	}
	leaf := cs.PeerCertificates[0]
	opts := x509.VerifyOptions{Roots: v.roots, Intermediates: x509.NewCertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	chains, err := leaf.Verify(opts)
	if err != nil {
		return err
	}
	if len(v.crls) > 0 {
		if err := v.checkRevoked(chains[0], time.Now()); err != nil {
			return err
		}
	}
	name := cs.ServerName
	if name == "" {
		name = v.verifyHost
	}
	if name == "" {
		return nil
	}
	return verifyName(leaf, name)
}

// checkRevoked applies the CRLs to every certificate of the chain below
// its root, as OpenSSL's CRL_CHECK_ALL which HAProxy sets: each needs a
// valid CRL from its issuer, and must not be listed in it.
func (v *verifier) checkRevoked(chain []*x509.Certificate, now time.Time) error {
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		crl := v.crlFor(issuer, now)
		if crl == nil {
			return fmt.Errorf("x509: no valid CRL for %q from its issuer %q", cert.Subject, issuer.Subject)
		}
		for _, r := range crl.RevokedCertificateEntries {
			if r.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return fmt.Errorf("x509: certificate %q is revoked", cert.Subject)
			}
		}
	}
	return nil
}

func (v *verifier) crlFor(issuer *x509.Certificate, now time.Time) *x509.RevocationList {
	for _, crl := range v.crls {
		if crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
			continue
		}
		return crl
	}
	return nil
}
