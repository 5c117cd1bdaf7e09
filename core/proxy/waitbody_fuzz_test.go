package proxy

import (
	"bytes"
	"testing"
)

// FuzzDechunkBody: the req.body view of a chunked body never panics and
// never holds more than the input; on a well-formed body it is the data.
func FuzzDechunkBody(f *testing.F) {
	f.Add([]byte("4\r\na=12\r\n5\r\n&b=xy\r\n0\r\n\r\n"))
	f.Add([]byte("4;ext=1\r\nab"))
	f.Add([]byte("zz\r\n"))
	f.Add([]byte("fffffffffffffffff\r\n"))
	f.Fuzz(func(t *testing.T, p []byte) {
		out := dechunkBody(nil, p)
		if len(out) > len(p) {
			t.Fatalf("%d bytes out of %d", len(out), len(p))
		}
	})
}

func TestDechunkBody(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"4\r\na=12\r\n5\r\n&b=xy\r\n0\r\n\r\n", "a=12&b=xy"},
		{"4\r\na=12\r\n5\r\n&b", "a=12&b"},
		{"4;x=y\r\nabcd\r\n", "abcd"},
		{"4\r\nab", "ab"},
		{"", ""},
		{"x\r\nabc", ""},
	} {
		if got := dechunkBody(nil, []byte(tc.in)); !bytes.Equal(got, []byte(tc.want)) {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
}
