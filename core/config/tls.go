package config

import (
	"strings"

	"github.com/varde-lb/varde/core/tlsx"
)

// Frontend TLS options of bind lines and the global defaults. What can be
// checked without reading files (cipher strings, versions, ALPN syntax) is
// checked here, at its token; certificates, CA and CRL files are loaded
// when the generation is prepared (core/proxy), which check runs too.

// bindTLSOption records one TLS option of a bind line.
func (p *parser) bindTLSOption(b *Bind, t, v Token, kw string) {
	switch t.Text {
	case "ssl":
		b.SSL = true
	case "crt":
		b.Crts = append(b.Crts, v.Text)
	case "crt-list":
		b.CrtLists = append(b.CrtLists, v.Text)
	case "ca-file":
		b.CA = v.Text
	case "crl-file":
		b.CRLFile = v.Text
	case "verify":
		if !contains([]string{"none", "optional", "required"}, v.Text) {
			p.d.Errorf(v.Pos, kw, "none, optional or required", "invalid verify %q", v.Text)
		}
		b.Verify = v.Text
	case "alpn":
		if v.Text == "" || strings.Contains(v.Text, ",,") || strings.HasPrefix(v.Text, ",") || strings.HasSuffix(v.Text, ",") {
			p.d.Errorf(v.Pos, kw, "a comma-separated list such as http/1.1", "invalid alpn list %q", v.Text)
		}
		b.ALPN = v.Text
	case "ciphers":
		if p.checkCiphers(v, kw) {
			b.Ciphers = v.Text
		}
	case "ciphersuites":
		if p.checkCipherSuites(v, kw) {
			b.CipherSuites = v.Text
		}
	case "curves", "ecdhe":
		if _, err := tlsx.ParseCurves(v.Text); err != nil {
			p.d.Errorf(v.Pos, kw, "X25519:P-256", "%v", err)
			return
		}
		if t.Text == "curves" || b.Curves == "" {
			b.Curves = v.Text // curves wins over ecdhe
		}
	case "strict-sni":
		b.StrictSNI = true
	case "no-tls-tickets":
		b.NoTLSTickets = true
	default: // version options
		var ver tlsx.Versions
		if _, err := ver.Option(t.Text, v.Text); err != nil {
			p.d.Errorf(v.Pos, kw, "TLSv1.2 or TLSv1.3", "%v", err)
			return
		}
		opt := t.Text
		if v.Text != "" {
			opt += " " + v.Text
		}
		b.TLSVersions = append(b.TLSVersions, opt)
	}
}

// checkCiphers refuses an OpenSSL cipher string Go cannot honour, and warns
// about the suites it names that Go lacks: varde does not offer them (a
// stricter set than OpenSSL's), so clients that speak only those fail.
func (p *parser) checkCiphers(t Token, kw string) bool {
	rep, err := tlsx.ParseCipherReport(t.Text)
	dropped := rep.Dropped
	if err != nil {
		p.d.Errorf(t.Pos, kw, "use ciphers Go implements, e.g. ECDHE+AESGCM:ECDHE+CHACHA20 (docs/tls.md lists them)", "%v", err)
		return false
	}
	for _, e := range rep.Ignored {
		// OpenSSL skips it silently; HAProxy accepts the line.
		p.d.Warnf(t.Pos, kw, "correct or remove it (docs/tls.md)",
			"cipher %q names no cipher or alias: it selects nothing, as in OpenSSL", e)
	}
	if len(dropped) > 0 {
		p.d.Warnf(t.Pos, kw, "remove them from the list to silence this (docs/tls.md)",
			"not offered, Go's TLS does not implement them: %s", strings.Join(dropped, ", "))
	}
	return true
}

// checkCipherSuites refuses a TLS 1.3 list other than Go's fixed set.
func (p *parser) checkCipherSuites(t Token, kw string) bool {
	if err := tlsx.CheckCipherSuites(t.Text); err != nil {
		p.d.Errorf(t.Pos, kw, "remove the line, or write Go's set (docs/tls.md)", "%v", err)
		return false
	}
	return true
}

// defaultBindOptions are the words ssl-default-bind-options takes (besides
// the version options); prefer-client-ciphers is accepted and has no
// effect (Go orders the suites itself).
var defaultBindOptions = map[string]bool{"no-tls-tickets": true, "prefer-client-ciphers": true, "strict-sni": true}

// checkDefaultBindOptions validates ssl-default-bind-options.
func (p *parser) checkDefaultBindOptions(args []Token, kw string) bool {
	ok := true
	var ver tlsx.Versions
	for i := 0; i < len(args); i++ {
		t := args[i]
		arg := ""
		if t.Text == "ssl-min-ver" || t.Text == "ssl-max-ver" {
			if i+1 >= len(args) {
				p.d.Errorf(t.Pos, kw, t.Text+" TLSv1.2", "%s needs a version", t.Text)
				return false
			}
			i++
			arg = args[i].Text
		}
		known, err := ver.Option(t.Text, arg)
		switch {
		case err != nil:
			p.d.Errorf(t.Pos, kw, "TLSv1.2 or TLSv1.3", "%v", err)
			ok = false
		case !known && !defaultBindOptions[t.Text]:
			p.d.Errorf(t.Pos, kw, "no-sslv3, no-tlsv10, no-tlsv11, no-tlsv12, no-tlsv13, no-tls-tickets, ssl-min-ver V, ssl-max-ver V, strict-sni",
				"option %q is not supported by varde", t.Text)
			ok = false
		}
	}
	return ok
}

// TLSVersionsOf collects version options as written (a bind's
// TLSVersions, or ssl-default-bind-options) into tlsx.Versions; words that
// are not version options are skipped.
func TLSVersionsOf(opts []string) tlsx.Versions {
	var v tlsx.Versions
	for i := 0; i < len(opts); i++ {
		name, arg, _ := strings.Cut(opts[i], " ")
		if (name == "ssl-min-ver" || name == "ssl-max-ver") && arg == "" && i+1 < len(opts) {
			i++
			arg = opts[i]
		}
		v.Option(name, arg)
	}
	return v
}
