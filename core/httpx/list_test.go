package httpx

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func elements(v string) []string {
	var out []string
	for rest := []byte(v); rest != nil; {
		var e []byte
		e, rest = NextElement(rest)
		out = append(out, string(e))
	}
	return out
}

func TestNextElement(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", []string{""}},
		{"a", []string{"a"}},
		{" a , b ", []string{"a", "b"}},
		{`a1, "a,2" ,c`, []string{"a1", `"a,2"`, "c"}},
		{`"a\",b", c`, []string{`"a\",b"`, "c"}},
		{`a\,b`, []string{`a\`, "b"}}, // a backslash escapes only inside quotes
		{"a,,b,", []string{"a", "", "b", ""}},
		{`"unterminated, x`, []string{`"unterminated, x`}},
		{"\ta\t,\tb", []string{"a", "b"}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, elements(tt.in)); d != "" {
			t.Errorf("%q (-want +got)\n%s", tt.in, d)
		}
	}
}

func TestTokenAndFold(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{{"GET", true}, {"x-1!#$%&'*+.^_`|~", true}, {"", false}, {"a b", false}, {"a,b", false}, {"a\"", false}, {"\x80", false}} {
		if IsToken([]byte(tt.in)) != tt.ok {
			t.Errorf("IsToken(%q) = %v", tt.in, !tt.ok)
		}
	}
	if got := string(AppendLower([]byte("x:"), []byte("AbC-9Z"))); got != "x:abc-9z" {
		t.Errorf("AppendLower: %q", got)
	}
	for _, tt := range []struct {
		b, sub string
		ok     bool
	}{{"X-Mid-Y", "mid", true}, {"X-Mi", "mid", false}, {"abc", "", true}, {"MID", "mid", true}} {
		if ContainsFold([]byte(tt.b), tt.sub) != tt.ok {
			t.Errorf("ContainsFold(%q, %q) = %v", tt.b, tt.sub, !tt.ok)
		}
	}
}

func TestNextElementAllocs(t *testing.T) {
	v := []byte(`a, "b,c", d`)
	if n := testing.AllocsPerRun(100, func() {
		for rest := v; rest != nil; {
			_, rest = NextElement(rest)
		}
	}); n != 0 {
		t.Errorf("%v allocs", n)
	}
}

// FuzzNextElement: the elements and the commas between them give back the
// list (spaces aside); no element holds an unquoted comma; a list without
// quotes splits exactly as bytes.Split does.
func FuzzNextElement(f *testing.F) {
	for _, s := range []string{"", "a", `a1, "a,2" ,c`, `"a\",b", c`, "a,,b,", `"x`, `\"a,b"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := []byte(s)
		var got [][]byte
		n := 0
		for rest := v; rest != nil; {
			var e []byte
			e, rest = NextElement(rest)
			if n++; n > len(v)+1 {
				t.Fatalf("%q: more elements than bytes", s)
			}
			if len(e) > 0 && (e[0] == ' ' || e[0] == '\t' || e[len(e)-1] == ' ' || e[len(e)-1] == '\t') {
				t.Fatalf("%q: element %q not trimmed", s, e)
			}
			got = append(got, e)
		}
		strip := func(b []byte) string { return strings.NewReplacer(" ", "", "\t", "").Replace(string(b)) }
		if strip(bytes.Join(got, []byte(","))) != strip(v) {
			t.Fatalf("%q: elements %q do not rebuild the list", s, got)
		}
		if !bytes.ContainsRune(v, '"') && len(got) != bytes.Count(v, []byte(","))+1 {
			t.Fatalf("%q: %d elements without quotes", s, len(got))
		}
	})
}
