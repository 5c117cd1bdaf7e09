package sample

import (
	"crypto/tls"

	"github.com/varde-lb/varde/core/tlsx"
)

// TLSStater is implemented by a request view whose connection may be TLS
// (core/proxy's): RequestCtx copies its state into Ctx.TLSState.
type TLSStater interface {
	TLSState() *tls.ConnectionState
}

// The client-side TLS fetches (HAProxy §7.3.4). They read the handshake's
// state, which exists at request and response time; a log-format reads
// the transaction record, which does not carry it, so they are refused
// there rather than logged empty.
func init() {
	const where = AtRequest | AtResponse
	str := func(name, doc string, get func(cs *tls.ConnectionState) string) {
		RegisterFetch(&Fetch{Name: name, Where: where, Doc: doc, Out: TypeStr,
			Eval: func(c *Ctx, _ *Args, out *Value) bool {
				if c.TLSState == nil {
					return false
				}
				s := get(c.TLSState)
				out.SetStr(stringBytes(s))
				return s != ""
			}})
	}
	str("ssl_fc_sni", "the server name the TLS client asked for (SNI)", func(cs *tls.ConnectionState) string { return cs.ServerName })
	str("ssl_fc_alpn", "the ALPN protocol agreed with the TLS client", func(cs *tls.ConnectionState) string { return cs.NegotiatedProtocol })
	str("ssl_fc_protocol", "the TLS version of the client connection: TLSv1.2, TLSv1.3", func(cs *tls.ConnectionState) string { return tlsx.VersionName(cs.Version) })
	str("ssl_fc_cipher", "the cipher of the client connection, by its OpenSSL name (ECDHE-RSA-AES128-GCM-SHA256, TLS_AES_128_GCM_SHA256)",
		func(cs *tls.ConnectionState) string { return tlsx.CipherName(cs.CipherSuite) })
	str("ssl_c_s_dn", "the subject of the client certificate, as /C=../O=../CN=..", func(cs *tls.ConnectionState) string {
		if len(cs.PeerCertificates) == 0 {
			return ""
		}
		return tlsx.SubjectDN(cs.PeerCertificates[0])
	})
	RegisterFetch(&Fetch{Name: "ssl_c_used", Where: where, Doc: "true when the TLS client sent a certificate", Out: TypeBool,
		Eval: func(c *Ctx, _ *Args, out *Value) bool {
			if c.TLSState == nil {
				return false
			}
			out.SetBool(len(c.TLSState.PeerCertificates) > 0)
			return true
		}})
	// A handshake with a client certificate that failed verification
	// never completes (varde has no crt-ignore-err), so a TLS connection
	// always reads 0 (X509_V_OK), as HAProxy does without a certificate.
	RegisterFetch(&Fetch{Name: "ssl_c_verify", Where: where, Doc: "the client certificate's verification result: 0 (varde ends the handshake of a certificate that fails)", Out: TypeInt,
		Eval: func(c *Ctx, _ *Args, out *Value) bool {
			if c.TLSState == nil {
				return false
			}
			out.SetInt(0)
			return true
		}})
}
