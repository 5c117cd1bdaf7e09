package proxy

import (
	"testing"
)

// fields is a headerSource over name/value pairs.
type fields [][2]string

func (f fields) NumHeaders() int                 { return len(f) }
func (f fields) HeaderAt(i int) ([]byte, []byte) { return []byte(f[i][0]), []byte(f[i][1]) }

func TestAcceptEncodingBitmap(t *testing.T) {
	for _, tt := range []struct {
		ae   []string
		want uint32
		ok   bool
	}{
		{nil, ^uint32(0), true},
		{[]string{"gzip"}, encIdentity | encGzip, true},
		{[]string{"gzip, br"}, encIdentity | encGzip | encBr, true},
		{[]string{"GZIP;q=0.5", "deflate"}, encIdentity | encGzip | encDeflate, true},
		{[]string{"gzip, identity;q=0"}, encGzip, true},
		{[]string{"*"}, ^uint32(0), true},
		{[]string{"*, gzip;q=0"}, ^uint32(0) &^ encGzip, true},
		{[]string{"foo"}, encIdentity | encOther, true},
		{[]string{"gz"}, encIdentity, true}, // a known first letter: ignored, as HAProxy
		{[]string{""}, encIdentity, true},
		{[]string{"a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p"}, 0, false},
	} {
		var f fields
		for _, v := range tt.ae {
			f = append(f, [2]string{"Accept-Encoding", v})
		}
		got, ok := acceptEncodingBitmap(f)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("%q: got %#x %v, want %#x %v", tt.ae, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSecondaryKeyMatch(t *testing.T) {
	stored := fields{{"Vary", "accept-encoding"}, {"Content-Encoding", "gzip"}}
	sig, ok := varySignature(stored)
	if !ok || sig != varyAcceptEncoding {
		t.Fatalf("signature %v %v", sig, ok)
	}
	ref, _ := buildSecKey(fields{{"Accept-Encoding", "gzip"}}, ^uint32(0))
	reduceSecKey(&ref, sig)
	bm, ok := responseEncoding(stored)
	if !ok {
		t.Fatal("gzip unknown")
	}
	putU32(ref[0:4], bm)
	for _, tt := range []struct {
		ae   string
		want bool
	}{{"gzip", true}, {"gzip, br", true}, {"br", false}, {"*", true}, {"gzip;q=0, br", false}} {
		k, _ := buildSecKey(fields{{"Accept-Encoding", tt.ae}}, sig)
		reduceSecKey(&k, sig)
		if got := secMatch(&ref, &k); got != tt.want {
			t.Errorf("%q: match %v, want %v", tt.ae, got, tt.want)
		}
	}
	if _, ok := varySignature(fields{{"Vary", "accept-encoding, cookie"}}); ok {
		t.Error("Vary: cookie accepted")
	}
	if _, ok := responseEncoding(fields{{"Content-Encoding", "GZIP"}}); ok {
		t.Error("an upper-case coding is unknown to HAProxy's response check")
	}
}
