package httpx

import "bytes"

// The absolute-form request target (RFC 9112 3.2.2), as HAProxy 2.6 treats
// it, so that the proxy's ACLs and the server agree on the target:
//
//   - an authority that differs from the Host header (case-insensitively,
//     userinfo left out, a scheme's default port not counting) is a 400:
//     which of the two the server would believe is not for the proxy to
//     guess (RFC 9112 lets a proxy refuse; nginx instead replaces Host);
//   - when they agree, the target's default port is removed
//     ("http://a.example:80/x" goes on as "http://a.example/x") and both
//     are forwarded otherwise unchanged.
//
// HAProxy 2.6 also accepts an HTTP/1.1 absolute-form request without Host;
// varde keeps refusing any HTTP/1.1 request without Host (RFC 9112 3.2).

// targetForm accepts the request-target forms of RFC 9112 3.2: origin-form
// ("/..."), absolute-form ("scheme://..."), asterisk-form ("*") for
// OPTIONS only and authority-form ("host:port") for CONNECT only; a
// CONNECT must use authority-form. Anything else ("..", "foo", "?x") is a
// 400 before any rule sees it. HAProxy 2.6 refuses most of these too (it
// compares whatever precedes the first '/' with Host); it forwards
// "GET *", "OPTIONS *x" and a bare target equal to Host, which varde
// refuses: no server is meant to receive them.
func targetForm(method, t []byte) error {
	connect := string(method) == "CONNECT"
	switch {
	case connect:
		if authorityForm(t) {
			return nil
		}
	case t[0] == '/':
		return nil
	case t[0] == '*':
		if len(t) == 1 && string(method) == "OPTIONS" {
			return nil
		}
	case schemeLen(t) > 0:
		return nil
	}
	return ErrTargetForm
}

// authorityForm reports whether t is host ":" port, the host a name, an
// IPv4 address or a bracketed IPv6 address, without userinfo or path.
func authorityForm(t []byte) bool {
	k := bytes.LastIndexByte(t, ':')
	if k <= 0 || k == len(t)-1 || len(t)-k-1 > 5 {
		return false
	}
	for _, c := range t[k+1:] {
		if !isDigit(c) {
			return false
		}
	}
	host := t[:k]
	if host[0] == '[' {
		return len(host) > 2 && host[len(host)-1] == ']' && bytes.IndexAny(host[1:len(host)-1], "[]/?#@") < 0
	}
	return bytes.IndexAny(host, "[]/?#@:") < 0
}

// absoluteForm checks and normalises an absolute-form target in buf.
func (r *Request) absoluteForm(buf []byte) error {
	t := r.Target.Of(buf)
	sch := schemeLen(t)
	if sch == 0 {
		return nil // origin-form, asterisk-form, authority-form
	}
	scheme := t[:sch]
	rest := t[sch+3:]
	end := len(rest)
	if i := bytes.IndexAny(rest, "/?#"); i >= 0 {
		end = i
	}
	auth := rest[:end]
	if at := bytes.LastIndexByte(auth, '@'); at >= 0 {
		auth = auth[at+1:]
	}
	host, port := splitDefaultPort(auth, scheme)
	if r.HostIdx >= 0 {
		h, _ := splitDefaultPort(trimOWS(r.Fields[r.HostIdx].Value.Of(buf)), scheme)
		if !equalFoldBytes(h, host) {
			return ErrHostMismatch
		}
	}
	if port > 0 {
		// Drop the default port in place: the bytes before it move right,
		// the target starts later (the request line is rebuilt from
		// spans, never forwarded raw).
		pre := sch + 3 + end - port
		copy(buf[int(r.Target.Off)+port:], buf[r.Target.Off:int(r.Target.Off)+pre])
		r.Target.Off += uint32(port)
		r.Target.Len -= uint32(port)
	}
	return nil
}

// schemeLen is the length of t's scheme when t is "scheme://...", else 0.
func schemeLen(t []byte) int {
	i := bytes.Index(t, []byte("://"))
	if i <= 0 {
		return 0
	}
	for k, c := range t[:i] {
		alpha := c|0x20 >= 'a' && c|0x20 <= 'z'
		if !alpha && (k == 0 || !(isDigit(c) || c == '+' || c == '-' || c == '.')) {
			return 0
		}
	}
	return i
}

// splitDefaultPort returns hostport without the scheme's default port
// (http 80, https 443) and the length removed (0 when none).
func splitDefaultPort(hostport, scheme []byte) ([]byte, int) {
	var def string
	switch {
	case EqualFold(scheme, "http"):
		def = ":80"
	case EqualFold(scheme, "https"):
		def = ":443"
	default:
		return hostport, 0
	}
	if bytes.HasSuffix(hostport, []byte(def)) && !bytes.HasSuffix(hostport[:len(hostport)-len(def)], []byte(":")) {
		return hostport[:len(hostport)-len(def)], len(def)
	}
	return hostport, 0
}
