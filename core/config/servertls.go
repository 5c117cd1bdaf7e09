package config

import (
	"path/filepath"
	"strings"

	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/sample"
)

// TLS to servers (TLS origination): the options of server and
// default-server lines beyond ssl, verify, ca-file, sni and check-ssl, and
// the global defaults they inherit. docs/tls-servers.md explains them.

// ServerTLS are a server's TLS settings besides SSL, Verify, CAFile, SNI
// and CheckSSL (ServerOptions). File paths are already joined with
// ca-base/crt-base.
type ServerTLS struct {
	CRLFile    string `json:"crl_file,omitempty"`
	Crt        string `json:"crt,omitempty"` // client certificate (PEM with key) shown to the server
	ALPN       string `json:"alpn,omitempty"`
	SSLMinVer  string `json:"ssl_min_ver,omitempty"` // TLSv1.0 .. TLSv1.3
	SSLMaxVer  string `json:"ssl_max_ver,omitempty"`
	Ciphers    string `json:"ciphers,omitempty"` // OpenSSL TLS <= 1.2 cipher list
	VerifyHost string `json:"verifyhost,omitempty"`
	CheckSNI   string `json:"check_sni,omitempty"`
	CheckALPN  string `json:"check_alpn,omitempty"`
	NoSSLReuse bool   `json:"no_ssl_reuse,omitempty"`
	// DefaultTLSOptions are ssl-default-server-options as written (no-tlsv10,
	// ssl-min-ver ..., no-tls-tickets), validated when parsed.
	DefaultTLSOptions []string `json:"default_tls_options,omitempty"`
}

// serverTLSOptionArgs are the TLS options this file parses; true when the
// option takes a value.
var serverTLSOptionArgs = map[string]bool{
	"crl-file": true, "crt": true, "alpn": true, "ssl-min-ver": true, "ssl-max-ver": true, "ciphers": true,
	"verifyhost": true, "check-sni": true, "check-alpn": true,
	"no-verifyhost": false, "ssl-reuse": false, "no-ssl-reuse": false, "no-check-ssl": false,
}

func init() {
	for k, v := range serverTLSOptionArgs {
		serverOptionArgs[k] = v
	}
}

// TLSVersions are the protocol names ssl-min-ver and ssl-max-ver accept.
// SSLv3 is refused: Go's TLS never speaks it.
var TLSVersions = []string{"TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"}

func (p *parser) serverTLSOption(o *ServerOptions, name string, v Token, kw string) {
	switch name {
	case "crl-file":
		o.CRLFile = p.basePath(p.cfg.Global.CABase, v.Text)
	case "crt":
		o.Crt = p.basePath(p.cfg.Global.CRTBase, v.Text)
	case "alpn":
		o.ALPN = v.Text
	case "check-alpn":
		o.CheckALPN = v.Text
	case "ssl-min-ver", "ssl-max-ver":
		if !p.tlsVersion(v, kw) {
			return
		}
		if name == "ssl-min-ver" {
			o.SSLMinVer = v.Text
		} else {
			o.SSLMaxVer = v.Text
		}
	case "ciphers":
		o.Ciphers = v.Text
	case "verifyhost":
		o.VerifyHost = v.Text
	case "no-verifyhost":
		o.VerifyHost = ""
	case "check-sni":
		o.CheckSNI = v.Text
	case "ssl-reuse":
		o.NoSSLReuse = false
	case "no-ssl-reuse":
		o.NoSSLReuse = true
	case "no-check-ssl":
		o.CheckSSL = false
	}
}

func (p *parser) tlsVersion(v Token, kw string) bool {
	if v.Text == "SSLv3" {
		p.d.Errorf(v.Pos, kw, "use TLSv1.2 or TLSv1.3", "SSLv3 is not available: Go's TLS never speaks it")
		return false
	}
	if !contains(TLSVersions, v.Text) {
		p.d.Errorf(v.Pos, kw, strings.Join(TLSVersions, ", "), "invalid TLS version %q", v.Text)
		return false
	}
	return true
}

// basePath joins a relative path with ca-base or crt-base, as HAProxy.
func (p *parser) basePath(base, file string) string {
	if base == "" || filepath.IsAbs(file) {
		return p.path(file) // default-path (defaultpath.go)
	}
	return p.path(filepath.Join(base, file))
}

// tlsPath is a bind line's crt, crt-list, ca-file or crl-file: as written
// (the engine joins crt-base and ca-base at preparation), or resolved
// here under a default-path, whose directory makes it absolute.
func (p *parser) tlsPath(base, file string) string {
	if p.dp.dir == "" {
		p.path(file) // notes a relative name for a later default-path line
		return file
	}
	return p.basePath(base, file)
}

// serverTLSDefaults gives a server line the global TLS defaults it did not
// override: ssl-server-verify, ssl-default-server-ciphers and
// ssl-default-server-options (HAProxy applies them to every server).
func (p *parser) serverTLSDefaults(o *ServerOptions) {
	g := &p.cfg.Global
	if o.Verify == "" {
		o.Verify = g.SSLServerVerify
	}
	if o.Ciphers == "" {
		o.Ciphers = g.SSLDefaultServerCiphers
	}
	o.DefaultTLSOptions = g.SSLDefaultServerOptions
}

// serverDefaultTLSOptions validates ssl-default-server-options: only the
// options whose meaning Go's TLS can honour exactly are accepted.
func (p *parser) serverDefaultTLSOptions(args []Token) {
	const key = "ssl-default-server-options"
	for i := 0; i < len(args); i++ {
		t := args[i]
		switch t.Text {
		case "no-sslv3", "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13", "no-tls-tickets":
		case "ssl-min-ver", "ssl-max-ver":
			if i+1 >= len(args) {
				p.d.Errorf(t.Pos, key, t.Text+" TLSv1.2", "%s needs a version", t.Text)
				return
			}
			i++
			p.tlsVersion(args[i], key)
		default:
			p.d.Errorf(t.Pos, key, "supported: no-sslv3, no-tlsv10, no-tlsv11, no-tlsv12, no-tlsv13, no-tls-tickets, ssl-min-ver V, ssl-max-ver V",
				"option %q is not supported for TLS to servers", t.Text)
		}
	}
}

// VerifyRequired reports whether the server's certificate is checked:
// verify required, or no verify and ssl-server-verify not none (HAProxy's
// default is required).
func (o *ServerOptions) VerifyRequired() bool { return o.Verify != "none" }

// UsesTLS reports whether traffic to the server is TLS.
func (o *ServerOptions) UsesTLS() bool { return o.SSL }

// ChecksUseTLS reports whether health checks speak TLS: check-ssl, or ssl
// on the server unless a check port or address sends them elsewhere
// (HAProxy's rule for `ssl`).
func (o *ServerOptions) ChecksUseTLS() bool {
	return o.CheckSSL || (o.SSL && o.Port == 0 && o.Addr == "")
}

// validateServerTLS refuses what HAProxy refuses at start-up for servers
// that speak TLS (traffic or checks): verification enabled without a CA
// file, an sni expression that does not compile, ALPN protocols varde
// cannot speak to a server.
func (c *Config) validateServerTLS(px *Proxy, d *diag.List) {
	for _, s := range px.Servers {
		if !s.UsesTLS() && !(s.Check && s.ChecksUseTLS()) {
			continue
		}
		if s.VerifyRequired() && s.CAFile == "" {
			hint := "add `verify none` to the server line, or `ca-file FILE`, or `ssl-server-verify none` in the global section"
			if s.Verify == "" {
				d.Errorf(s.Pos, "server verify", hint, "server %q: verify is enabled by default but no CA file specified", s.Name)
			} else {
				d.Errorf(s.Pos, "server verify", hint, "server %q: verify is enabled but no CA file specified", s.Name)
			}
		}
		if s.SNI != "" {
			o := sample.Options{Where: sample.AtRequest, Place: "in server sni"}
			if _, err := sample.Parse(s.SNI, o); err != nil {
				reportSampleErr(d, s.Pos, "server sni", err)
			}
		}
		if px.EffectiveMode() != "tcp" {
			c.checkServerALPN(s, "alpn", s.ALPN, d)
			c.checkServerALPN(s, "check-alpn", s.CheckALPN, d)
		}
	}
}

// checkServerALPN refuses protocols other than http/1.1 in mode http:
// varde speaks only HTTP/1.1 to servers, and offering h2 would let the
// server pick a protocol varde would then misread.
func (c *Config) checkServerALPN(s *Server, kw, list string, d *diag.List) {
	if list == "" {
		return
	}
	for _, proto := range strings.Split(list, ",") {
		if proto != "http/1.1" {
			d.Errorf(s.Pos, "server "+kw, "write "+kw+" http/1.1: HTTP/2 to servers is not built",
				"server %q: protocol %q cannot be spoken to a server in mode http", s.Name, proto)
		}
	}
}
