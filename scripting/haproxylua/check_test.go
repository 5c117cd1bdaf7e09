package haproxylua

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck53(t *testing.T) {
	cases := []struct {
		name, src string
		want      string // "" valid, else "FILE:LINE: ... (what)"
	}{
		{"plain 5.1", "local a = 1 / 2\nif a ~= 3 then return end\n", ""},
		{"floor division", "local a = 1\nlocal b = a // 2\n", "s.lua:2: integer division // is Lua 5.3 syntax"},
		{"bitwise and", "x = 1 & 2", "s.lua:1: bitwise and & is Lua 5.3 syntax"},
		{"bitwise or", "\n\nx = 1 | 2", "s.lua:3: bitwise or | is Lua 5.3 syntax"},
		{"shift", "x = 1 << 2", "s.lua:1: shift << is Lua 5.3 syntax"},
		{"bitwise not", "x = ~y", "s.lua:1: bitwise xor/not ~ is Lua 5.3 syntax"},
		{"goto", "for i=1,2 do\n goto continue\n ::continue::\nend", "s.lua:2: goto is Lua 5.3 syntax"},
		{"in a string is fine", `x = "a // b & c | d"`, ""},
		{"in a long string is fine", "x = [==[\n a // b ]] \n]==]\ny = 1", ""},
		{"in a comment is fine", "-- a // b\nx = 1 --[[ c & d\n]]", ""},
		{"escaped quote", `x = "a \" // b"`, ""},
		{"after a long comment", "--[[\n\n]] x = 1 // 2", "s.lua:3: integer division // is Lua 5.3 syntax"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := check53("s.lua", c.src)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused valid 5.1: %v", err)
			case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
				t.Fatalf("got %v, want prefix %q", err, c.want)
			}
		})
	}
}

func TestScanAPI(t *testing.T) {
	known := func(n string) bool { _, ok := fetchName(n); return ok }
	cases := []struct {
		name, src string
		want      []string
	}{
		{"supported", "core.register_action('a', {'http-req'}, function(txn) txn.http:req_set_header('a', txn.sf:req_hdr('host')) txn:set_var('txn.a', 1) return act.CONTINUE end)", nil},
		{"core function", "core.register_task(f)", []string{"s.lua:1: core.register_task is not supported"}},
		{"txn method", "\nfunction f(txn) txn:set_loglevel(1) end", []string{"s.lua:2: txn:set_loglevel is not supported"}},
		{"txn.http method", "txn.http:req_rep_header('a')", []string{"s.lua:1: txn.http:req_rep_header is not supported"}},
		{"applet method", "applet:set_timeout(1)", []string{"s.lua:1: applet:set_timeout is not supported"}},
		{"act constant", "return act.WAIT", []string{"s.lua:1: act.WAIT is not supported"}},
		{"unknown fetch", "txn.f:nosuch_fetch()", []string{"s.lua:1: fetch nosuch_fetch (txn.f/txn.sf) is not supported"}},
		{"fetch with dots as underscores", "txn.f:req_hdr('a') txn.sf:src()", nil},
		{"in a comment", "-- core.register_task(f)\n", nil},
		{"a HAProxy class", "local m = Map.new('/etc/map', Map._str)", []string{"s.lua:1: the class Map is not supported"}},
		{"a field named like a class", "local t = {}\nt.Map = 1\nlocal x = t.Map.y", nil},
		{"converters", "txn.c:lower('A') txn.sc:nosuchconv(1)", []string{"s.lua:1: converter nosuchconv (txn.c/txn.sc) is not supported"}},
		{"in a string", "x = 'txn:set_loglevel'", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := scanAPI("s.lua", c.src, known)
			if len(errs) != len(c.want) {
				t.Fatalf("got %v, want %v", errs, c.want)
			}
			for i, e := range errs {
				if !strings.HasPrefix(e.Error(), c.want[i]) {
					t.Errorf("got %q, want prefix %q", e, c.want[i])
				}
			}
		})
	}
}

func TestNumString(t *testing.T) {
	for in, want := range map[float64]string{200: "200", 200.5: "200.5", -3: "-3", 1e15: "1000000000000000", 0.1: "0.1"} {
		if got := numString(in); got != want {
			t.Errorf("numString(%v) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCheckScript feeds arbitrary sources to the scanners: no panic, and
// every reported line exists in the source.
func FuzzCheckScript(f *testing.F) {
	for _, s := range []string{"x = 1 // 2", "--[[ a", "x = [[", "'unterminated", "core.x()", "txn.f:y()\n::a::", "--[==[\n]==] goto x", "require 'a'", "require(\"x.y\")"} {
		f.Add(s)
	}
	known := func(string) bool { return false }
	f.Fuzz(func(t *testing.T, src string) {
		if got := stripLua(src); len(got) != len(src) || strings.Count(got, "\n") != strings.Count(src, "\n") {
			t.Fatalf("stripLua changed the length or the lines of %q", src)
		}
		lines := 1 + strings.Count(src, "\n")
		check := func(msg string) {
			var line int
			if _, err := fmtSscanLine(msg, &line); err != nil || line < 1 || line > lines {
				t.Fatalf("bad line in %q (source has %d lines)", msg, lines)
			}
		}
		if err := check53("s.lua", src); err != nil {
			check(err.Error())
		}
		for _, e := range scanAPI("s.lua", src, known) {
			check(e.Error())
		}
		for _, e := range checkRequires("s.lua", src, nil) {
			check(e.Error())
		}
	})
}

func fmtSscanLine(msg string, line *int) (int, error) {
	rest := strings.TrimPrefix(msg, "s.lua:")
	i := strings.IndexByte(rest, ':')
	if i < 0 {
		return 0, errNoLine
	}
	n := 0
	for _, c := range rest[:i] {
		if c < '0' || c > '9' {
			return 0, errNoLine
		}
		n = n*10 + int(c-'0')
	}
	*line = n
	return 1, nil
}

var errNoLine = errors.New("no line")

func TestSandbox(t *testing.T) {
	L := newSandbox(nil)
	defer L.Close()
	for _, c := range []struct{ src, err string }{
		{"return io", ""}, // nil, no error
		{"os.exit(1)", "attempt to index"},
		{"loadstring('x=1')()", "attempt to call"},
		{"dofile('/etc/passwd')", "attempt to call"},
		{"require('nosuch')", "not found"},
		{"string.rep('x', 1e9)", "exceeds the sandbox"},
		{"assert(table.pack(1, 2).n == 2 and select('#', table.unpack({1, 2, 3})) == 3)", ""},
		{"assert(math.tointeger(3.0) == 3 and math.tointeger(3.5) == nil and math.type(1) == 'integer')", ""},
		{"assert(string.rep('ab', 3) == 'ababab')", ""},
	} {
		err := L.DoString(c.src)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: got %v, want %q", c.src, err, c.err)
		}
	}
	if L.GetGlobal("io").String() != "nil" || L.GetGlobal("debug").String() != "nil" || L.GetGlobal("package").String() != "nil" {
		t.Error("a forbidden library is loaded")
	}
}

func TestCheckRequires(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "have.lua"), []byte("return {}"), 0o644)
	paths := []string{filepath.Join(dir, "?.lua")}
	src := "local a = require('have')\nlocal function f()\n  return require \"missing.mod\"\nend\n-- require('commented')\nlocal x = require(name)\n"
	errs := checkRequires("s.lua", src, paths)
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), `s.lua:3: module "missing.mod" not found`) {
		t.Fatalf("got %v", errs)
	}
}
