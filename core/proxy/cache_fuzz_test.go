package proxy

import (
	"encoding/binary"
	"testing"
	"time"
)

// FuzzCacheHeaders feeds arbitrary request and response field values to
// the cache's header parsers (Accept-Encoding, Vary, Content-Encoding,
// Cache-Control, Expires, Age, Pragma, entity tags): none may panic, and
// their results keep the invariants the store relies on.
func FuzzCacheHeaders(f *testing.F) {
	for _, s := range []string{
		"gzip, deflate;q=0.5, br", "*;q=0, identity", "x-gzip , x-compress", "GZIP;Q=0", "", ",,,", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q",
		`max-age=60, public`, `s-maxage="30"`, "max-age=-1", "no-cache=\"set-cookie\"", "private", "max-age=00",
		"accept-encoding, referer", "Thu, 01 Jan 1970 00:00:00 GMT", "10", "-5", `W/"x"`, `"a", W/"b", *`,
	} {
		f.Add(s, s)
	}
	c := &Cache{maxAge: 60}
	f.Fuzz(func(t *testing.T, a, b string) {
		req := fields{{"Accept-Encoding", a}, {"Referer", b}, {"Accept-Encoding", b}}
		for _, sig := range []uint32{varyAcceptEncoding, varyReferer, varyAcceptEncoding | varyReferer, ^uint32(0)} {
			k, ok := buildSecKey(req, sig)
			reduceSecKey(&k, sig)
			if ok && sig&varyReferer == 0 && (k[4]|k[5]|k[6]|k[7]) != 0 {
				t.Fatalf("referer part kept without its bit: %x", k)
			}
			if ok && !secMatch(&k, &k) && binary.LittleEndian.Uint32(k[0:4])&encOther == 0 {
				t.Fatalf("a key does not match itself: %x", k)
			}
		}
		resp := fields{{"Vary", a}, {"Content-Encoding", b}, {"Cache-Control", a}, {"Cache-Control", b}, {"Expires", b}, {"Pragma", a}, {"ETag", b}}
		varySignature(resp)
		responseEncoding(resp)
		cacheableResponse(resp)
		now := time.Now().Unix()
		if eff, _, ok := maxAge(resp, c, now); ok && (eff < 0 || eff > c.maxAge) {
			t.Fatalf("effective max-age %d outside 0..%d", eff, c.maxAge)
		}
		leadingInt([]byte(a))
		if weakETagEqual([]byte(a), []byte(b)) != weakETagEqual([]byte(b), []byte(a)) {
			t.Fatal("entity tag comparison is not symmetric")
		}
		parseEncoding([]byte(a))
	})
}
