package logpipe

import (
	"strconv"
	"unicode/utf8"

	"github.com/varde-lb/varde/core/logrec"
)

// appendJSON writes `option jsonlog`: one object with httplog's (or
// tcplog's) fields, named. Dates are RFC 3339 UTC with milliseconds; timers
// are milliseconds with -1 for "not reached", as in httplog.
func appendJSON(dst []byte, r *logrec.Record, c *encodeCtx) []byte {
	dst = append(dst, `{"client_ip":"`...)
	if r.Client.IsValid() {
		dst = c.anon.appendAddr(dst, r.Client.Addr(), c.now)
	}
	dst = append(dst, `","client_port":`...)
	dst = strconv.AppendUint(dst, uint64(r.Client.Port()), 10)
	if r.Mode == logrec.ModeHTTP {
		dst = append(dst, `,"request_date":"`...)
		dst = appendRFC3339(dst, requestNS(r))
	} else {
		dst = append(dst, `,"accept_date":"`...)
		dst = appendRFC3339(dst, r.Accept)
	}
	dst = append(dst, `","frontend":`...)
	dst = appendJSONString(dst, []byte(r.Frontend))
	if r.TLS {
		dst = append(dst, `,"tls":true`...)
	}
	dst = append(dst, `,"backend":`...)
	b := r.Backend
	if b == "" {
		b = r.Frontend
	}
	dst = appendJSONString(dst, []byte(b))
	dst = append(dst, `,"server":`...)
	s := r.Server
	if s == "" {
		s = "<NOSRV>"
	}
	dst = appendJSONString(dst, []byte(s))
	if r.Mode == logrec.ModeHTTP {
		dst = appendJSONInt(dst, `,"TR":`, int64(r.TR))
		dst = appendJSONInt(dst, `,"Tw":`, int64(r.Tw))
		dst = appendJSONInt(dst, `,"Tc":`, int64(r.Tc))
		dst = appendJSONInt(dst, `,"Tr":`, int64(r.Tr))
		dst = appendJSONInt(dst, `,"Ta":`, int64(r.Ta))
		dst = appendJSONInt(dst, `,"status":`, int64(r.Status))
	} else {
		dst = appendJSONInt(dst, `,"Tw":`, int64(r.Tw))
		dst = appendJSONInt(dst, `,"Tc":`, int64(r.Tc))
		dst = appendJSONInt(dst, `,"Tt":`, int64(r.Tt))
	}
	dst = appendJSONInt(dst, `,"bytes_read":`, r.BytesOut)
	dst = appendJSONInt(dst, `,"bytes_uploaded":`, r.BytesIn)
	if r.Mode == logrec.ModeHTTP {
		dst = append(dst, `,"captured_request_cookie":`...)
		dst = appendJSONOrNull(dst, jsonAnonText(r.ReqCookie.Bytes(), c))
		dst = append(dst, `,"captured_response_cookie":`...)
		dst = appendJSONOrNull(dst, jsonAnonText(r.ResCookie.Bytes(), c))
		dst = append(dst, `,"termination_state":`...)
		dst = appendJSONString(dst, r.Term[:])
	} else {
		dst = append(dst, `,"termination_state":`...)
		dst = appendJSONString(dst, r.Term[:2])
	}
	dst = appendJSONInt(dst, `,"actconn":`, int64(r.ActConn))
	dst = appendJSONInt(dst, `,"feconn":`, int64(r.FeConn))
	dst = appendJSONInt(dst, `,"beconn":`, int64(r.BeConn))
	dst = appendJSONInt(dst, `,"srv_conn":`, int64(r.SrvConn))
	dst = appendJSONInt(dst, `,"retries":`, int64(r.Retries))
	if r.Redispatched {
		dst = append(dst, `,"redispatched":true`...)
	}
	dst = appendJSONInt(dst, `,"srv_queue":`, int64(r.SrvQueue))
	dst = appendJSONInt(dst, `,"backend_queue":`, int64(r.BackendQueue))
	if r.ReqHeaders.Len() > 0 {
		dst = append(dst, `,"captured_request_headers":`...)
		dst = appendJSONCaptures(dst, &r.ReqHeaders, c.reqKinds, c)
	}
	if r.ResHeaders.Len() > 0 {
		dst = append(dst, `,"captured_response_headers":`...)
		dst = appendJSONCaptures(dst, &r.ResHeaders, c.resKinds, c)
	}
	if r.Mode == logrec.ModeHTTP {
		dst = append(dst, `,"http_request":`...)
		v := r.RequestLine.Bytes()
		if c.anon.active() {
			c.scratch = c.anon.appendText(c.scratch[:0], v, c.now)
			v = c.scratch
		}
		dst = appendJSONString(dst, v)
	}
	return append(dst, '}')
}

// jsonAnonText anonymises a text field (into c.scratch) when the target
// anonymises anything.
func jsonAnonText(v []byte, c *encodeCtx) []byte {
	if len(v) == 0 || !c.anon.active() {
		return v
	}
	c.scratch = c.anon.appendText(c.scratch[:0], v, c.now)
	return c.scratch
}

func appendJSONInt(dst []byte, key string, v int64) []byte {
	dst = append(dst, key...)
	return strconv.AppendInt(dst, v, 10)
}

func appendJSONOrNull(dst, v []byte) []byte {
	if len(v) == 0 {
		return append(dst, "null"...)
	}
	return appendJSONString(dst, v)
}

func appendJSONCaptures(dst []byte, cp *logrec.Captures, kinds []headerKind, c *encodeCtx) []byte {
	dst = append(dst, '[')
	for i := 0; i < cp.Len(); i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		v := cp.At(i)
		if c.anon.active() {
			kind := hdrText
			if i < len(kinds) {
				kind = kinds[i]
			}
			c.scratch = c.anon.appendHeader(c.scratch[:0], v, kind, c.now)
			v = c.scratch
		}
		dst = appendJSONString(dst, v)
	}
	return append(dst, ']')
}

// appendJSONString quotes v; invalid UTF-8 becomes U+FFFD so every line is
// valid JSON whatever the client sent.
func appendJSONString(dst, v []byte) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(v[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, "\\ufffd"...)
		} else {
			dst = append(dst, v[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}

// appendRFC3339 writes UTC "2026-11-21T19:55:00.123Z".
func appendRFC3339(dst []byte, ns int64) []byte {
	sec := floorDiv(ns, 1e9)
	t := unixUTC(sec)
	dst = strconv.AppendInt(dst, int64(t.Year()), 10)
	dst = append(dst, '-')
	dst = append2(dst, int(t.Month()))
	dst = append(dst, '-')
	dst = append2(dst, t.Day())
	dst = append(dst, 'T')
	dst = append2(dst, t.Hour())
	dst = append(dst, ':')
	dst = append2(dst, t.Minute())
	dst = append(dst, ':')
	dst = append2(dst, t.Second())
	dst = append(dst, '.')
	dst = append3(dst, int((ns-sec*1e9)/1e6))
	return append(dst, 'Z')
}
