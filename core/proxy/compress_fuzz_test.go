package proxy

import (
	"bytes"
	"io"
	"net/http/httputil"
	"testing"

	"github.com/varde-lb/varde/core/httpx"
)

// TestAcceptCoding pins the negotiation on values HAProxy 2.6 reads the
// same way (select_compression_request_header).
func TestAcceptCoding(t *testing.T) {
	gd := []compAlgo{compDeflate, compGzip} // `compression algo gzip deflate`
	for _, r := range []struct {
		v    string
		want compAlgo
		q    int
	}{
		{"gzip", compGzip, 1000},
		{"deflate, gzip", compDeflate, 1000},
		{"gzip;q=0.5, deflate;q=0.51", compDeflate, 510},
		{"gzip;q=0", compNone, 0},
		{"gzip; q=0.3", compGzip, 300},
		{"gzip;level=1;q=0.2", compGzip, 200},
		{"gzip;Q=0", compGzip, 1000}, // HAProxy's "q=" test is case-sensitive
		{"*", compDeflate, 1000},
		{"*;q=0.1, gzip;q=0.2", compGzip, 200},
		{"x-gzip", compNone, 0},
		{"gzipx", compNone, 0},
		{" GZIP ", compGzip, 1000},
		{"br, zstd", compNone, 0},
		{`gzip;foo="a,b";q=0.4`, compGzip, 400},
		{"gzip;q=1.5", compGzip, 1000},
		{"gzip;q=0.0001", compNone, 0},
		{"", compNone, 0},
	} {
		a, q := acceptCoding([]byte(r.v), gd, compNone, 0)
		if a != r.want || q != r.q {
			t.Errorf("%q: got %v q=%d, want %v q=%d", r.v, a, q, r.want, r.q)
		}
	}
}

// FuzzAcceptEncoding: any header value gives an algorithm of the list (or
// none) with a q-value in 1..1000, and the choice only depends on the
// elements that name a configured coding or "*".
func FuzzAcceptEncoding(f *testing.F) {
	for _, s := range []string{"gzip", "deflate;q=0.5, gzip", "*;q=0", `a;b="x,y", gzip ;q=1`, "identity;q=0.9,*", "gzip;q=", "gzip;q"} {
		f.Add([]byte(s), uint8(7))
	}
	f.Fuzz(func(t *testing.T, v []byte, mask uint8) {
		var algos []compAlgo
		for a := compIdentity; a <= compRawDeflate; a++ {
			if mask&(1<<a) != 0 {
				algos = append(algos, a)
			}
		}
		a, q := acceptCoding(v, algos, compNone, 0)
		if a == compNone {
			if q != 0 {
				t.Fatalf("no coding but q=%d", q)
			}
			return
		}
		if q < 1 || q > 1000 {
			t.Fatalf("q=%d out of range", q)
		}
		found := false
		for _, x := range algos {
			found = found || x == a
		}
		if !found {
			t.Fatalf("chose %v, not in %v", a, algos)
		}
		if !bytes.Contains(v, []byte("*")) && !bytes.Contains(bytes.ToLower(v), []byte(a.token())) {
			t.Fatalf("chose %v from %q which does not name it", a, v)
		}
	})
}

// FuzzDechunkTrailer: on any chunked body the engine's validator accepts,
// dechunk keeping its trailer (fed in two pieces split anywhere) yields the same data as
// net/http's chunked reader, and keeps the trailer lines.
func FuzzDechunkTrailer(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), uint16(3))
	f.Add([]byte("3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n"), uint16(20))
	f.Add([]byte("0\r\n\r\n"), uint16(0))
	f.Fuzz(func(t *testing.T, body []byte, split uint16) {
		var ck httpx.Chunked
		k, err := ck.Scan(body)
		if err != nil || !ck.Done() {
			return
		}
		body = body[:k]
		want, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(body)))
		if err != nil {
			return // stricter than the validator: nothing to compare
		}
		d := dechunk{keep: true}
		var got []byte
		at := int(split) % (len(body) + 1)
		for _, p := range [][]byte{body[:at], body[at:]} {
			for len(p) > 0 {
				data, rest, done := d.next(p)
				if done {
					rest = nil
				}
				got = append(got, data...)
				p = rest
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("data %q, want %q", got, want)
		}
		if d.st != dcDone {
			t.Fatalf("body ended in state %d", d.st)
		}
		if tr := bytes.TrimRight(body[bytes.LastIndex(body, []byte("0\r\n"))+3:], "\r\n"); len(tr) > 0 && len(d.trailer) == 0 && bytes.Contains(tr, []byte(":")) {
			t.Fatalf("trailer %q lost", tr)
		}
	})
}
