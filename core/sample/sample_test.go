package sample

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/acl/acltest"
	"github.com/varde-lb/varde/core/logrec"
)

func testCtx() *Ctx {
	req := acltest.New("GET", "/a/b.php?x=1&user=bob;sid=9&empty=",
		"Host: www.example.com",
		"X-Forwarded-For: 10.0.0.1, 10.0.0.2",
		"X-Forwarded-For: 203.0.113.7:8080",
		"Cookie: a=1; SESS=abc ; b=2",
		"Cookie: SESS=def",
		"User-Agent: Mozilla/5.0 (X11, Linux)",
		"Content-Length: 42")
	c := &Ctx{}
	RequestCtx(c, req)
	c.Frontend, c.Backend, c.Server, c.ServerID, c.Status = "fe", "be", "s2", 2, 503
	return c
}

type headerList [][2]string

func (h headerList) NumHeaders() int { return len(h) }
func (h headerList) HeaderAt(i int) ([]byte, []byte) {
	return []byte(h[i][0]), []byte(h[i][1])
}

func eval(t *testing.T, c *Ctx, expr string) (string, bool) {
	t.Helper()
	e, err := Parse(expr, Options{})
	if err != nil {
		t.Fatalf("Parse(%q): %v", expr, err)
	}
	v, _, ok := e.Eval(c, nil)
	if !ok {
		return "", false
	}
	return string(AppendString(nil, &v)), ok
}

// TestHdrQuotedCommas: hdr, hdr_cnt and hdr_val split values at commas
// outside quoted strings, as HAProxy's http_find_hdr_value_end does
// (TestSameSamplesAsHAProxy checks the same header against HAProxy).
func TestHdrQuotedCommas(t *testing.T) {
	c := &Ctx{}
	RequestCtx(c, acltest.New("GET", "/", "Host: a", `X-V: a1, "a,2" ,c`, `X-Q: "a\",b", 7`))
	for _, tc := range []struct{ expr, want string }{
		{"req.hdr_cnt(x-v)", "3"},
		{"req.hdr(x-v,2)", `"a,2"`},
		{"req.hdr(x-v,-1)", "c"},
		{"req.hdr_cnt(x-q)", "2"},
		{"req.hdr(x-q,1)", `"a\",b"`},
		{"req.hdr_val(x-q)", "7"},
		{"req.fhdr_cnt(x-v)", "1"},
	} {
		if got, _ := eval(t, c, tc.expr); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// Expected values follow HAProxy 2.6's configuration.txt §7.3.
func TestFetches(t *testing.T) {
	c := testCtx()
	c.Res = headerList{{"Content-Type", "text/html"}, {"Set-Cookie", "x=1"}}
	var cp logrec.Captures
	cp.Add([]byte("www.example.com"), 64)
	c.ReqCaptures = &cp
	for _, tc := range []struct {
		expr, want string
		ok         bool
	}{
		{"method", "GET", true},
		{"path", "/a/b.php", true},
		{"url", "/a/b.php?x=1&user=bob;sid=9&empty=", true},
		{"query", "x=1&user=bob;sid=9&empty=", true},
		{"base", "www.example.com/a/b.php", true},
		{"req.hdr(host)", "www.example.com", true},
		{"hdr(Host)", "www.example.com", true},
		{"req.hdr(x-forwarded-for)", "203.0.113.7:8080", true}, // last value
		{"req.hdr(x-forwarded-for,1)", "10.0.0.1", true},
		{"req.hdr(x-forwarded-for,2)", "10.0.0.2", true},
		{"req.hdr(x-forwarded-for,-2)", "10.0.0.2", true},
		{"req.hdr(x-forwarded-for,4)", "", false},
		{"req.hdr(x-missing)", "", false},
		{"req.fhdr(x-forwarded-for,1)", "10.0.0.1, 10.0.0.2", true},
		{"req.fhdr(user-agent)", "Mozilla/5.0 (X11, Linux)", true},
		{"req.hdr(user-agent)", "Linux)", true},
		{"hdr_cnt(x-forwarded-for)", "3", true},
		{"req.fhdr_cnt(x-forwarded-for)", "2", true},
		{"req.hdr_cnt(x-missing)", "0", true},
		{"req.hdr_val(content-length)", "42", true},
		{"req.hdr_ip(x-forwarded-for)", "203.0.113.7", true},
		{"req.hdr_ip(x-forwarded-for,1)", "10.0.0.1", true},
		{"req.cook(SESS)", "def", true}, // last occurrence
		{"cook(a)", "1", true},
		{"req.cook", "1", true}, // no name: the first cookie
		{"req.cook(sess)", "", false},
		{"req.cook_cnt(SESS)", "2", true},
		{"url_param(user)", "bob", true},
		{"urlp(sid)", "9", true},
		{"urlp(empty)", "", true},
		{"urlp(nope)", "", false},
		{"url_param", "1", true},
		{"urlp_val(x)", "1", true},
		{"src", "192.0.2.1", true},
		{"src_port", "40000", true},
		{"dst", "127.0.0.1", true},
		{"dst_port", "80", true},
		{"ssl_fc", "0", true},
		{"fe_name", "fe", true},
		{"be_name", "be", true},
		{"srv_name", "s2", true},
		{"srv_id", "2", true},
		{"status", "503", true},
		{"res.hdr(content-type)", "text/html", true},
		{"res.hdr_cnt", "2", true},
		{"capture.req.hdr(0)", "www.example.com", true},
		{"capture.req.hdr(1)", "", false},
		{"req.proto_http", "1", true},
		{"always_false", "0", true},
		{"str(abc)", "abc", true},
		{"int(-7)", "-7", true},
	} {
		got, ok := eval(t, c, tc.expr)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s = %q, %v; want %q, %v", tc.expr, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHdrFollowsDirection(t *testing.T) {
	c := testCtx()
	c.Res = headerList{{"Content-Type", "text/html"}}
	if got, _ := eval(t, c, "hdr(content-type)"); got != "" {
		t.Errorf("request side: hdr(content-type) = %q", got)
	}
	c.Response = true
	for expr, want := range map[string]string{"hdr(content-type)": "text/html", "hdr_cnt": "1", "req.hdr(host)": "www.example.com"} {
		if got, _ := eval(t, c, expr); got != want {
			t.Errorf("response side: %s = %q, want %q", expr, got, want)
		}
	}
}

func TestPathqAbsoluteForm(t *testing.T) {
	c := &Ctx{}
	RequestCtx(c, acltest.New("GET", "http://example.com:8080/a/b?x=1"))
	if got, _ := eval(t, c, "pathq"); got != "/a/b?x=1" {
		t.Errorf("pathq = %q", got)
	}
	RequestCtx(c, acltest.New("GET", "http://example.com"))
	if got, ok := eval(t, c, "pathq"); got != "" || !ok {
		t.Errorf("pathq without path = %q, %v", got, ok)
	}
}

func TestFetchesWithoutRequest(t *testing.T) {
	c := &Ctx{Src: netip.MustParseAddrPort("[2001:db8::1]:5"), Frontend: "fe"}
	for _, tc := range []struct {
		expr, want string
		ok         bool
	}{
		{"path", "", false}, {"req.hdr(host)", "", false}, {"status", "", false},
		{"srv_name", "", false}, {"be_name", "", false}, {"fe_name", "fe", true}, {"src", "2001:db8::1", true},
		{"req.proto_http", "0", true},
	} {
		if got, ok := eval(t, c, tc.expr); got != tc.want || ok != tc.ok {
			t.Errorf("%s = %q, %v; want %q, %v", tc.expr, got, ok, tc.want, tc.ok)
		}
	}
}

// Expected values: HAProxy's documented examples where it gives them.
func TestConverters(t *testing.T) {
	c := testCtx()
	for _, tc := range []struct {
		expr, want string
		ok         bool
	}{
		{"req.hdr(host),upper", "WWW.EXAMPLE.COM", true},
		{"str(MiXeD),lower", "mixed", true},
		{"str(f1_f2_f3__f5),field(5,_)", "f5", true},
		{"str(f1_f2_f3__f5),field(2,_,0)", "f2_f3__f5", true},
		{"str(f1_f2_f3__f5),field(2,_,2)", "f2_f3", true},
		{"str(f1_f2_f3__f5),field(-2,_,3)", "f2_f3_", true},
		{"str(f1_f2_f3__f5),field(-3,_,0)", "f1_f2_f3", true},
		{"str(f1_f2_f3__f5),word(4,_)", "f5", true},
		{"str(f1_f2_f3__f5),word(2,_,0)", "f2_f3__f5", true},
		{"str(f1_f2_f3__f5),word(3,_,2)", "f3__f5", true},
		{"str(f1_f2_f3__f5),word(-2,_,3)", "f1_f2_f3", true},
		{"str(f1_f2_f3__f5),word(-3,_,0)", "f1_f2", true},
		{"str(/f1/f2/f3/f4),word(1,/)", "f1", true},
		{"str(a),field(3,_)", "", true},
		{"str(a_b_c),field(-9,_)", "", true},
		{"str(a_b_c),field(2,_,9223372036854775807)", "b_c", true},
		{"str(a_b_c),field(-1,_,9223372036854775807)", "a_b_c", true},
		{"str(a_b_c),word(-9223372036854775807,_)", "", true},
		{"str(abc),concat(<,,>)", "abc<>", true},
		{"str(abc),length", "3", true},
		{"str(abcdef),bytes(2)", "cdef", true},
		{"str(abcdef),bytes(2,3)", "cde", true},
		{"str(abcdef),bytes(9)", "", true},
		{"str(ab),hex", "6162", true},
		{`str(a\,b),hex`, "612C62", true},
		{`str(\x),hex`, "5C78", true},
		{"str(hello),base64", "aGVsbG8=", true},
		{"str(aGVsbG8=),b64dec", "hello", true},
		{"str(a?b),ub64enc", "YT9i", true},
		{"str(%%zz),b64dec", "", false},
		{"str(a%20b+c),url_dec", "a b+c", true},
		{"str(/p?a=b+c),url_dec", "/p?a=b c", true},
		{"str(a+b),url_dec(1)", "a b", true},
		{"str(a%2),url_dec", "", false},
		{`str('Very "Ugly" UA 1/2'),json(utf8s)`, `Very \"Ugly\" UA 1\/2`, true},
		{"str(é),json", `\u00c3\u00a9`, true},
		{"str(é),json(utf8)", `\u00e9`, true},
		{"str(/////a///b/c/xzxyz/),regsub('/+','/','g')", "/a/b/c/xzxyz/", true},
		{"str(?;&x=1),regsub([?;&]*,'')", "x=1", true},
		{`str(/FOO12),regsub("(foo|bar)([0-9]+)?","\2\1",i)`, "/12FOO", true},
		{"str(aXbX),regsub(X,-)", "a-bX", true},
		{"str(  x  ),ltrim(' ')", "x  ", true},
		{"str(xx--),rtrim(-)", "xx", true},
		{"str(foo),djb2", "193491849", true},
		{"str(foo),sdbm", "849955110", true},
		{"str(foo),crc32", "2356372769", true},
		{"str(),xxh64", "-1205034819632174695", true},
		{"int(5),add(3),mul(2),sub(1),div(5),mod(2)", "1", true},
		{"int(7),div(0)", "9223372036854775807", true},
		{"int(6),and(3),or(8),xor(1)", "11", true},
		{"int(4),neg", "-4", true},
		{"int(3),odd", "1", true},
		{"int(3),even", "0", true},
		{"int(0),not", "1", true},
		{"int(2),bool", "1", true},
		{"str(1f),hex2i", "31", true},
		{"src,ipmask(24)", "192.0.2.0", true},
		{"src,ipmask(255.255.0.0)", "192.0.0.0", true},
		{"ipv6(2001:db8::1),ipmask(24)", "", false},
		{"ipv6(2001:db8:1:2::1),ipmask(24,32)", "2001:db8::", true},
		{"ssl_fc,iif(https,http)", "http", true},
		{"req.hdr(host),map(testdata/hosts.map,none)", "none", true},
		{"str(www.example.org),map(testdata/hosts.map)", "backend_b", true},
		{"str(example.com),map_str(testdata/hosts.map)", "backend_a", true},
		{"str(nope),map(testdata/hosts.map)", "", false},
		{"str(nope),map(testdata/hosts.map,fallback)", "fallback", true},
		{"path,map_beg(testdata/hosts.map,x)", "x", true},
		{"str(/api/v1),map_reg(testdata/paths.map)", "api", true},
		{"str(shop.example.com),map_dom(testdata/hosts.map)", "backend_a", true},
		{"str(10.1.2.3),map_ip(testdata/nets.map)", "office", true},
		{"str(10.9.2.3),map_ip(testdata/nets.map)", "lan", true},
		{"int(150),map_int(testdata/sizes.map)", "big", true},
		{"str(x),map_end(testdata/hosts.map,d)", "d", true},
		{"str(xexample.com),map_end(testdata/hosts.map)", "backend_a", true},
		{"str(www.example.org/x),map_sub(testdata/hosts.map)", "backend_b", true},
		{"str(abc),int_cast_fails_not", "", false},
	} {
		if strings.HasSuffix(tc.expr, "int_cast_fails_not") {
			continue
		}
		got, ok := eval(t, c, tc.expr)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s = %q, %v; want %q, %v", tc.expr, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		expr string
		o    Options
		want string
	}{
		{"req.hdrx(host)", Options{}, `unknown fetch "req.hdrx" (hint: did you mean "req.hdr"?)`},
		{"zzzzqqq", Options{}, `unknown fetch "zzzzqqq" (hint: see docs/samples.md for the supported names)`},
		{"req.hdr(host),lowr", Options{}, `unknown converter "lowr" (hint: did you mean "lower"?)`},
		{"lower", Options{}, `"lower" is a converter, not a fetch (hint: a converter follows a fetch, e.g. req.hdr(host),lower)`},
		{"status", Options{Where: AtRequest, Place: "in http-request rules"}, `fetch "status" is not available in http-request rules (hint: it exists at response, log time)`},
		{"req.hdr(host", Options{}, `missing ')' in "req.hdr(host" (hint: close it with ')' (quote arguments that contain one))`},
		{"req.hdr(a,b,c)", Options{}, `req.hdr takes 0 to 2 argument(s), got 3`},
		{"req.hdr(a,zero)", Options{}, `req.hdr: occurrence "zero": want a non-zero integer (1 = first, -1 = last)`},
		{"src,ipmask(33)", Options{}, `ipmask: mask "33": want a prefix length 0..32 or a contiguous mask`},
		{"str(x),map(testdata/missing.map)", Options{}, `map: map file: open testdata/missing.map: no such file or directory`},
		{"str(x),regsub('(',x)", Options{}, "regsub: bad regular expression \"(\": error parsing regexp: missing closing ): `(` (varde uses Go RE2 syntax)"},
		{"str(x),concat(a,txn.v)", Options{}, `concat: variables ("txn.v") are not supported yet; use START and END strings`},
		{"bin(00),add(1)", Options{}, `converter "add" cannot take a binary sample`},
		{"path extra", Options{}, `unexpected " extra" after "path" (hint: converters follow the fetch after a comma, e.g. req.hdr(host),lower)`},
		{"env(HOME)", Options{}, `fetch "env" is not supported by varde yet (hint: expand ${VAR} in the configuration instead)`},
		{"ssl_fc_sni", Options{Where: AtLog, Place: "in log-format"}, `fetch "ssl_fc_sni" is not available in log-format (hint: it exists at request, response time)`},
		{"", Options{}, `missing name at the end of "" (hint: e.g. req.hdr(host),lower)`},
	} {
		_, err := Parse(tc.expr, tc.o)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q) error = %v\nwant %s", tc.expr, err, tc.want)
		}
	}
}

func TestTemplate(t *testing.T) {
	c := testCtx()
	tpl, err := ParseTemplate("be_%[req.hdr(host),regsub('[.]',_,g)]%%-%[urlp(none)]x", Options{Where: AtRequest})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := tpl.Append(nil, c, nil)
	if string(out) != "be_www_example_com%-x" || !tpl.Dynamic() {
		t.Errorf("got %q", out)
	}
	tpl, err = ParseTemplate("%ci:%cp 100% %b", Options{Where: AtRequest})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := tpl.Append(nil, c, nil); string(out) != "192.0.2.1:40000 100% be" {
		t.Errorf("aliases: got %q", out)
	}
	for in, want := range map[string]string{
		"%[src":          `%[ at offset 0: missing ']' after "src"`,
		"x%[status]":     `%[ at offset 1: fetch "status" is not available at request time (hint: it exists at response, log time)`,
		"%[req.hdrx(a)]": `%[ at offset 0: unknown fetch "req.hdrx" (hint: did you mean "req.hdr"?)`,
		"a %Tq":          `%Tq at offset 2: log-format variable %Tq is not supported in this value (hint: use a %[fetch] expression, e.g. %[req.hdr(host)])`,
		"%{+Q}ci":        `%{...} flags at offset 0 are not supported in this value (hint: write the value without flags)`,
		"%ST":            `%ST at offset 0: fetch "status" is not available at request time (hint: it exists at response, log time)`,
	} {
		if _, err := ParseTemplate(in, Options{Where: AtRequest}); err == nil || err.Error() != want {
			t.Errorf("ParseTemplate(%q) = %v, want %s", in, err, want)
		}
	}
}

type collect struct{ got []string }

func (c *collect) Visit(v *Value) bool {
	c.got = append(c.got, string(AppendString(nil, v)))
	return false
}

func TestEach(t *testing.T) {
	c := testCtx()
	for expr, want := range map[string]string{
		"req.hdr(x-forwarded-for)":         "10.0.0.1|10.0.0.2|203.0.113.7:8080",
		"req.hdr(x-forwarded-for,1)":       "10.0.0.1",
		"req.cook(SESS),upper":             "ABC|DEF",
		"url_param":                        "1|bob|9|",
		"req.fhdr(x-forwarded-for),length": "18|16",
		"path":                             "/a/b.php",
	} {
		e, err := Parse(expr, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var col collect
		var scratch []byte
		e.Each(c, &scratch, &col)
		if got := strings.Join(col.got, "|"); got != want {
			t.Errorf("Each(%s) = %s, want %s", expr, got, want)
		}
	}
}

func TestEvalAllocatesNothing(t *testing.T) {
	c := testCtx()
	e, err := Parse("req.hdr(host),lower", Options{Where: AtRequest})
	if err != nil {
		t.Fatal(err)
	}
	scratch := make([]byte, 0, 256)
	dst := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		dst, scratch, _ = e.AppendTo(dst[:0], c, scratch[:0])
	})
	if allocs != 0 || string(dst) != "www.example.com" {
		t.Errorf("req.hdr(host),lower: %v allocs, %q", allocs, dst)
	}
	tpl, _ := ParseTemplate("%[src]:%[src_port] %[base,djb2] %[url_param(user)]", Options{})
	allocs = testing.AllocsPerRun(100, func() { dst, scratch = tpl.Append(dst[:0], c, scratch) })
	if allocs != 0 {
		t.Errorf("template: %v allocs", allocs)
	}
}

func BenchmarkEvalHdrLower(b *testing.B) {
	c := testCtx()
	e, _ := Parse("req.hdr(host),lower", Options{})
	scratch, dst := make([]byte, 0, 256), make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		dst, scratch, _ = e.AppendTo(dst[:0], c, scratch[:0])
	}
}

func BenchmarkEvalMap(b *testing.B) {
	c := testCtx()
	e, _ := Parse("req.hdr(host),lower,map(testdata/hosts.map,default)", Options{})
	scratch, dst := make([]byte, 0, 256), make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		dst, scratch, _ = e.AppendTo(dst[:0], c, scratch[:0])
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Parse("req.hdr(host),lower,regsub('^www[.]',''),concat(-,,x)", Options{})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"req.hdr(host),lower", "str(a,b),field(1,_)", `regsub("(a|b)","\1",g)`, "src,ipmask(24,64)", "%[x", "urlp(a,;)", "str('x)'),concat(\\,,,)"} {
		f.Add(s)
	}
	c := testCtx()
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Contains(s, "map") {
			return // map converters read files
		}
		e, err := Parse(s, Options{})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if e.String() != s {
			t.Fatalf("String() = %q, want %q", e.String(), s)
		}
		e.Eval(c, nil)
		var scratch []byte
		e.Each(c, &scratch, &collect{})
		ParseTemplate("%["+s+"]", Options{})
	})
}

func TestCastsAllocateNothing(t *testing.T) {
	c := testCtx()
	for _, expr := range []string{"req.hdr_ip(x-forwarded-for,1)", "req.hdr(x-forwarded-for,1),ipmask(8)", "str(1f),hex2i", "req.hdr(user-agent),cut_crlf", "str(/api/v1),map_beg(testdata/paths.map,x)"} {
		e, err := Parse(expr, Options{})
		if err != nil {
			t.Fatal(err)
		}
		scratch := make([]byte, 0, 64)
		if n := testing.AllocsPerRun(100, func() { _, scratch, _ = e.Eval(c, scratch[:0]) }); n != 0 {
			t.Errorf("%s: %v allocations", expr, n)
		}
	}
	if got, ok := eval(t, c, "str(fe80::1%eth0),ipmask(24,64)"); ok {
		t.Errorf("an address with a zone converted: %q", got)
	}
}
