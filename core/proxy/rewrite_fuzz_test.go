package proxy

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/varde-lb/varde/core/httpx"
)

// FuzzRewriteLine composes request lines from fuzzed URIs and values: no
// panic, and a line the engine accepts never holds a space or control
// byte (it is written as is to the server).
func FuzzRewriteLine(f *testing.F) {
	for _, s := range []string{"/a?b", "http://h/p?q", "http://u@h:1", "*", "", "h://", "/x y"} {
		f.Add(s, "/new", uint8(0))
	}
	f.Fuzz(func(t *testing.T, uri, v string, kind uint8) {
		var e edits
		e.reset()
		k := lineKind(kind % 5)
		ok := e.setLine(k, []byte(v), []byte(uri), []byte("GET"))
		out := e.target
		if k == lineMethod {
			out = e.method
		}
		if ok && out != nil && (len(out) == 0 || !uriBytes(out)) {
			t.Fatalf("setLine(%d, %q, %q) accepted %q", k, v, uri, out)
		}
		uriAuthority([]byte(uri))
	})
}

// FuzzRewriteValues runs replace-value's walk and exp_replace on fuzzed
// values and formats: no panic; a regex that never matches leaves the
// value as it was; one that matches everything keeps the commas outside
// quoted strings.
func FuzzRewriteValues(f *testing.F) {
	for _, s := range []string{"a, b", "\"a,b\", c", " x ,", "\\", "a,\"\\\"", ","} {
		f.Add(s, `\1\x41\`)
	}
	never := &hdrActor{re: regexp.MustCompile(`\x00never`)}
	all := &hdrActor{re: regexp.MustCompile(`^(.*)$`)}
	f.Fuzz(func(t *testing.T, v, fmt string) {
		if got := never.replaceValues(nil, []byte(v), []byte(fmt)); !bytes.Equal(got, []byte(v)) {
			t.Fatalf("no match changed %q into %q", v, got)
		}
		got := all.replaceValues(nil, []byte(v), []byte(`[\1]`))
		if n, m := countSeparators([]byte(v)), countSeparators(got); n != m {
			t.Fatalf("%q -> %q: %d separators became %d", v, got, n, m)
		}
		m := []int{0, len(v), 0, len(v)}
		expReplace(nil, []byte(v), []byte(fmt), m)
	})
}

func countSeparators(v []byte) int {
	n := 0
	for i := 0; i < len(v); i++ {
		if e := httpx.ElementEnd(v, i); e < len(v) {
			n++
			i = e
			continue
		}
		break
	}
	return n
}

// FuzzNormalize runs every normalize-uri normalizer on fuzzed paths: no
// panic; the shrinking ones never grow the input (path-strip-dotdot by one
// byte at most: HAProxy turns "/.." into "/../"), percent-to-uppercase
// keeps its length, and merging slashes twice changes nothing more.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"///a//b/", "/a/./b/.", "/foo/../../bar/", "/..", "a=1&b&&c=", "/%2f%", "/a#b#"} {
		f.Add(s, true)
	}
	type norm func(dst, in []byte, opt bool) ([]byte, bool)
	shrink := []norm{mergeSlashes, stripDot, stripDotDot, percentDecodeUnreserved, fragmentStrip}
	f.Fuzz(func(t *testing.T, p string, opt bool) {
		in := []byte(p)
		for i, fn := range shrink {
			grow := 0
			if i == 2 {
				grow = 1
			}
			if out, ok := fn(nil, in, opt); ok && len(out) > len(in)+grow {
				t.Fatalf("normalizer %d grew %q into %q", i, in, out)
			}
		}
		if out, ok := percentUpper(nil, in, opt); ok && len(out) != len(in) {
			t.Fatalf("percent-to-uppercase changed the length of %q: %q", in, out)
		}
		if out, _ := fragmentEncode(nil, in, false); len(out) < len(in) {
			t.Fatalf("fragment-encode shrank %q", in)
		}
		once, _ := mergeSlashes(nil, in, false)
		if twice, _ := mergeSlashes(nil, once, false); !bytes.Equal(once, twice) {
			t.Fatalf("merge-slashes not idempotent on %q", in)
		}
		// query-sort-by-name keeps every byte but a trailing '&'.
		want := len(in)
		if bytes.HasSuffix(in, []byte("&")) {
			want--
		}
		if out, _ := sortQuery(nil, in, false); len(out) != want {
			t.Fatalf("query-sort-by-name made %q into %q", in, out)
		}
	})
}
