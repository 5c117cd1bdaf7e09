package sample

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/acl/acltest"
	"github.com/varde-lb/varde/core/testenv"
)

// diffExprs are evaluated by a real HAProxy (as `http-request set-header`
// values the backend echoes) and by this package, on the same request.
// MAPS is replaced by the directory of the test's map files.
var diffExprs = []string{
	"req.hdr(host),lower", "req.hdr(x-forwarded-for)", "req.hdr(x-forwarded-for,1)", "req.hdr(x-forwarded-for,-2)",
	"req.fhdr(x-forwarded-for,1)", "req.hdr_cnt(x-forwarded-for)", "req.fhdr_cnt(x-forwarded-for)", "req.hdr_cnt(cookie)",
	"req.hdr(user-agent)", "req.fhdr(user-agent)", "req.hdr_val(x-num)", "req.hdr_ip(x-forwarded-for)",
	"req.cook(SESS)", "req.cook", "req.cook_cnt(SESS)", "req.cook_cnt", "req.cook(sess)", "req.cook_val(n)",
	"url_param(user)", "urlp(sid)", "urlp(x)", "url_param", "urlp_val(x),add(1)", "urlp(b,;)",
	"path", "url", "query", "base", "method", "pathq",
	"path,field(2,/)", "path,field(-1,.)", "path,word(-1,/)", "path,word(1,/,0)",
	"str(f1_f2_f3__f5),field(-2,_,3)", "str(f1_f2_f3__f5),word(-3,_,0)", "str(f1_f2_f3__f5),word(2,_,2)",
	"req.hdr(x-enc),url_dec", "req.hdr(x-enc),url_dec(1)", "url,url_dec",
	"str(hello),base64", "str(aGVsbG8=),b64dec", "str(a?b~~),ub64enc", "str(YT9ifn4),ub64dec", "req.hdr(host),hex", "str(1f),hex2i",
	"req.fhdr(user-agent),json", "req.hdr(x-utf),json(utf8)", "req.hdr(x-utf),json(ascii)",
	"path,regsub(/,_,g)", "path,regsub('[ab]',X,gi)", "req.hdr(host),regsub('^www[.]','')", "path,regsub('(a)/(b)','\\2-\\1')",
	"req.hdr(host),djb2", "req.hdr(host),sdbm", "req.hdr(host),wt6", "req.hdr(host),crc32", "req.hdr(host),crc32c",
	"req.hdr(host),djb2(1)", "req.hdr(host),sdbm(1)", "req.hdr(host),xxh64", "req.hdr(host),xxh64(5)", "str(),xxh64",
	"src,ipmask(24)", "src,ipmask(255.255.0.0)", "ipv6(2001:db8:1:2::1),ipmask(24,64)", "ipv6(2001:db8:1:2::1),ipmask(24)",
	"int(7),add(3),mul(-2),div(3),mod(4)", "int(12),and(10),or(1),xor(3)", "int(5),neg", "int(5),cpl", "int(7),div(0)", "int(7),mod(0)",
	"int(3),bool", "int(0),not", "int(3),odd", "int(3),even", "int(9223372036854775807),add(1)", "int(4611686018427387904),mul(4)",
	"str(abc),length", "str(abcdef),bytes(2,3)", "str(abcdef),bytes(9)", "str(abcdef),bytes(1)",
	"str(xx--),rtrim(-)", "str(--xx),ltrim(-)", "str(abc),concat(<,,>)", "str(abc),concat(<)", "req.hdr(x-crlf),cut_crlf",
	"req.hdr(host),lower,map(MAPS/hosts.map,none)", "req.hdr(host),lower,field(1,:),map_dom(MAPS/hosts.map)",
	"path,map_beg(MAPS/paths.map)", "path,map_reg(MAPS/regs.map,nomatch)", "src,map_ip(MAPS/nets.map)",
	"req.hdr_val(x-num),map_int(MAPS/sizes.map)", "path,map_sub(MAPS/paths.map)", "path,map_end(MAPS/ends.map)",
	"path,map_str_int(MAPS/ints.map,-1),add(1)",
	"ssl_fc,iif(https,http)", "src", "dst_port", "fe_name", "req.proto_http", "always_true",
	"path,lower,upper", "src,lower", "req.hdr_cnt(x-forwarded-for),length",
	// A comma inside a quoted string does not split a value.
	"req.hdr_cnt(x-v)", "req.hdr(x-v,2)", "req.hdr(x-v)", "req.hdr(x-v,-2)", "req.hdr_cnt(x-q)", "req.hdr(x-q,1)", "req.hdr_val(x-q)",
}

var diffMaps = map[string]string{
	"hosts.map": "# comment\nwww.example.com:8080 whole\nexample.com   dom-value  \n",
	"paths.map": "/a/ begins-a\n/zz nothing\n",
	"regs.map":  "^/a/b[.] reg-hit\n",
	"nets.map":  "127.0.0.0/8 loopback\n127.0.0.1 exact\n",
	"sizes.map": "0:10 small\n11: big\n",
	"ends.map":  ".php php\n",
	"ints.map":  "/a/b.php 41\n",
}

func TestSameSamplesAsHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	dir := t.TempDir()
	for name, body := range diffMaps {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exprs := make([]string, len(diffExprs))
	for i, e := range diffExprs {
		exprs[i] = strings.ReplaceAll(e, "MAPS", dir)
	}
	echo := echoServer(t)
	port := testenv.FreePorts(t, 1)[0]
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global\n  nbthread 1\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n")
	fmt.Fprintf(&cfg, "frontend fe\n  bind 127.0.0.1:%d\n", port)
	for i, e := range exprs {
		fmt.Fprintf(&cfg, "  http-request set-header X-E%d \"%%[%s]\"\n", i, e)
	}
	fmt.Fprintf(&cfg, "  default_backend b\nbackend b\n  server s %s\n", echo)
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(haproxy, "-c", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	_, hLog := testenv.Start(t, haproxy, "-f", path, "-db")
	testenv.WaitListening(t, "haproxy", hLog, port)

	headers := []string{
		"Host: www.Example.com:8080",
		"X-Forwarded-For: 10.0.0.1, 10.0.0.2",
		"X-Forwarded-For: 203.0.113.7",
		"Cookie: a=1; SESS=abc ; b=2",
		"Cookie: SESS=def; n=17",
		"User-Agent: Mozilla/5.0 (X11, Linux) \"q\" a/b",
		"X-Num: 42",
		"X-Enc: a%20b+c%2B",
		"X-Utf: caf\xc3\xa9 \xe2\x82\xac",
		"X-Crlf: ab",
		`X-V: a1, "a,2" ,c`,
		`X-Q: "a\",b", 7`,
	}
	uri := "/a/b.php?x=1&user=bob;sid=9&empty=&b=%41"
	got, local := haproxyAnswer(t, port, uri, headers)
	if len(got) != len(exprs) {
		t.Fatalf("HAProxy answered %d values for %d expressions", len(got), len(exprs))
	}
	req := acltest.New("GET", uri, headers...)
	req.SrcAddr, req.DstAddr = local, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	c := &Ctx{}
	RequestCtx(c, req)
	c.Frontend = "fe"
	for i, e := range exprs {
		x, err := Parse(e, Options{})
		if err != nil {
			t.Errorf("%s: %v", e, err)
			continue
		}
		v, _, ok := x.Eval(c, nil)
		mine := ""
		if ok {
			mine = string(AppendString(nil, &v))
		}
		if want := got[i]; mine != want {
			t.Errorf("%s:\n  HAProxy: %q\n  varde:   %q", diffExprs[i], want, mine)
		}
	}
}

// haproxyAnswer sends the request and returns the X-E<i> values the echo
// backend saw, and the client's address.
func haproxyAnswer(t *testing.T, port int, uri string, headers []string) (map[int]string, netip.AddrPort) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\n%s\r\nConnection: close\r\n\r\n", uri, strings.Join(headers, "\r\n"))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[int]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "\t")
		n, _ := strconv.Atoi(strings.TrimPrefix(k, "X-E"))
		out[n] = v
	}
	local := netip.MustParseAddrPort(conn.LocalAddr().String())
	return out, local
}

// echoServer answers with one "X-E<i>\tvalue" line per received X-E header.
func echoServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range r.Header {
			if n, err := strconv.Atoi(strings.TrimPrefix(k, "X-E")); err == nil && n >= 0 {
				fmt.Fprintf(w, "%s\t%s\n", k, vs[0])
			}
		}
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}
