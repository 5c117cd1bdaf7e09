package logpipe

import (
	"strconv"

	"github.com/varde-lb/varde/core/logrec"
)

// appendHTTPLog is `option httplog` written out by hand: the same bytes as
// the compiled HTTPLogFormat (a test checks both on random records), without
// the per-item dispatch, because it is by far the most used format.
func appendHTTPLog(dst []byte, r *logrec.Record, c *encodeCtx) []byte {
	if r.Client.IsValid() {
		dst = c.anon.appendAddr(dst, r.Client.Addr(), c.now)
		dst = append(dst, ':')
		dst = strconv.AppendUint(dst, uint64(r.Client.Port()), 10)
	} else {
		dst = append(dst, "-:-"...)
	}
	dst = append(dst, " ["...)
	dst = c.dates.appendDate(dst, requestNS(r), c.loc)
	dst = append(dst, "] "...)
	dst = append(dst, r.Frontend...)
	if r.TLS {
		dst = append(dst, '~')
	}
	dst = append(dst, ' ')
	if r.Backend == "" {
		dst = append(dst, r.Frontend...)
	} else {
		dst = append(dst, r.Backend...)
	}
	dst = append(dst, '/')
	if r.Server == "" {
		dst = append(dst, "<NOSRV>"...)
	} else {
		dst = append(dst, r.Server...)
	}
	dst = append(dst, ' ')
	dst = appendSmall(dst, int64(r.TR))
	dst = append(dst, '/')
	dst = appendSmall(dst, int64(r.Tw))
	dst = append(dst, '/')
	dst = appendSmall(dst, int64(r.Tc))
	dst = append(dst, '/')
	dst = appendSmall(dst, int64(r.Tr))
	dst = append(dst, '/')
	dst = appendSmall(asap(dst, r), int64(r.Ta))
	dst = append(dst, ' ')
	dst = appendSmall(dst, int64(r.Status))
	dst = append(dst, ' ')
	dst = appendSmall(asap(dst, r), r.BytesOut)
	dst = append(dst, ' ')
	dst = appendCookie(dst, r.ReqCookie.Bytes(), c)
	dst = append(dst, ' ')
	dst = appendCookie(dst, r.ResCookie.Bytes(), c)
	dst = append(dst, ' ')
	dst = append(dst, r.Term[:]...)
	dst = append(dst, ' ')
	dst = appendSmall(dst, int64(r.ActConn))
	dst = append(dst, '/')
	dst = appendSmall(dst, int64(r.FeConn))
	dst = append(dst, '/')
	dst = appendSmall(dst, int64(r.BeConn))
	dst = append(dst, '/')
	dst = appendSmall(dst, int64(r.SrvConn))
	dst = append(dst, '/')
	if r.Redispatched {
		dst = append(dst, '+')
	}
	dst = appendSmall(dst, int64(r.Retries))
	dst = append(dst, ' ')
	dst = appendSmall(dst, int64(r.SrvQueue))
	dst = append(dst, '/')
	dst = appendSmall(dst, int64(r.BackendQueue))
	if r.ReqHeaders.Len() > 0 {
		dst = append(dst, ' ')
		dst = appendCaptures(dst, &r.ReqHeaders, c.reqKinds, c, false)
	}
	if r.ResHeaders.Len() > 0 {
		dst = append(dst, ' ')
		dst = appendCaptures(dst, &r.ResHeaders, c.resKinds, c, false)
	}
	dst = append(dst, ' ', '"')
	if r.RequestLine.Len() == 0 {
		dst = append(dst, "<BADREQ>"...)
	} else {
		dst = appendRequest(dst, r.RequestLine.Bytes(), c)
	}
	return append(dst, '"')
}

// appendSmall is strconv.AppendInt with a shortcut for 0..999, which is
// what most timers and counters are.
func appendSmall(dst []byte, v int64) []byte {
	switch {
	case v >= 0 && v < 10:
		return append(dst, byte('0'+v))
	case v >= 10 && v < 100:
		return append(dst, byte('0'+v/10), byte('0'+v%10))
	case v >= 100 && v < 1000:
		return append(dst, byte('0'+v/100), byte('0'+v/10%10), byte('0'+v%10))
	}
	return strconv.AppendInt(dst, v, 10)
}
