package admin_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// mapsDiffConfig routes on a map of host names (the most common use of
// maps), denies the hosts of an ACL file, and lets requests change the map
// through set-map/del-map.
func mapsDiffConfig(sock string, port int, dir string) string {
	return fmt.Sprintf(`global
    stats socket %[1]s mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend www
    bind 127.0.0.1:%[2]d
    use_backend %%[req.hdr(host),lower,map(%[3]s/hosts.map,be_def)]
    http-request set-header X-Net %%[src,map_ip(%[3]s/nets.map,none)]
    acl blocked req.hdr(host),lower -f %[3]s/block.acl
    http-request return status 200 content-type text/plain lf-string "%%[path,map_beg(%[3]s/pfx.map,DEF)]" if { path_beg -f %[3]s/pfx.acl }
    http-request deny if blocked
    http-request deny if { req.hdr(user-agent) -i -m str -f %[3]s/agents.acl }
    http-request set-map(%[3]s/hosts.map) %%[req.hdr(x-set-host)] %%[req.hdr(x-set-backend)] if { req.hdr(x-set-host) -m found }
    http-request del-map(%[3]s/hosts.map) %%[req.hdr(x-del-host)] if { req.hdr(x-del-host) -m found }
    default_backend be_def
backend be_a
    http-request return status 200 content-type text/plain string a
backend be_b
    http-request return status 200 content-type text/plain string b
backend be_def
    http-request return status 200 content-type text/plain string def
`, sock, port, dir)
}

// mapsDiffLB is one running load balancer of the differential test.
type mapsDiffLB struct {
	name, sock, addr string
}

// TestDiffHAProxyMaps runs the same configuration and map files through
// HAProxy 2.6 and varde, sends both the same admin commands and requests,
// and compares the answers (entry pointers masked) and the routing.
func TestDiffHAProxyMaps(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	hap := testenv.LookTool(t, "haproxy", "haproxy")
	bin := testenv.VardeBinary(t)
	var lbs []mapsDiffLB
	for _, name := range []string{"haproxy", "varde"} {
		lbs = append(lbs, startMapsLB(t, name, hap, bin))
	}
	step := func(what string, fn func(l mapsDiffLB) string) {
		t.Helper()
		h, v := fn(lbs[0]), fn(lbs[1])
		if h != v {
			t.Errorf("%s:\nhaproxy %q\nvarde   %q", what, h, v)
		}
	}
	cli := func(cmd string) {
		t.Helper()
		step(cmd, func(l mapsDiffLB) string {
			dir := filepath.Dir(l.sock)
			c := strings.ReplaceAll(cmd, "DIR", dir)
			c = strings.ReplaceAll(c, "#HOSTS", "#"+mapID(t, l, dir+"/hosts.map"))
			return maskMaps(strings.ReplaceAll(send(t, "unix", l.sock, c), dir, "DIR"))
		})
	}
	get := func(host string, hdrs ...string) {
		t.Helper()
		step("GET Host: "+host+" "+strings.Join(hdrs, " "), func(l mapsDiffLB) string { return mapsGet(t, l.addr, host, hdrs...) })
	}
	for _, h := range []string{"a.example.com", "B.Example.COM", "c.example.com", "bad.example.com"} {
		get(h)
	}
	// map_beg: the longest prefix (HAProxy's tree), not the first line.
	for _, p := range []string{"/a/b/c", "/a/x", "/a/b/c/d/e"} {
		step("GET "+p, func(l mapsDiffLB) string { return mapsGetPath(t, l.addr, p) })
	}
	cli("get map DIR/pfx.map /a/b/c")
	cli("get acl DIR/pfx.acl /a/b/c")
	cli("add map DIR/pfx.map /a/b/c mid")
	step("GET /a/b/c/x", func(l mapsDiffLB) string { return mapsGetPath(t, l.addr, "/a/b/c/x") })
	for _, c := range []string{
		"show map", "show acl", "show map DIR/hosts.map", "show acl DIR/block.acl", "show map #HOSTS", "get map #HOSTS a.example.com",
		"get map DIR/hosts.map a.example.com", "get map DIR/hosts.map nope", "get map DIR/nets.map 127.0.0.1",
		"get acl DIR/block.acl BAD.example.com", "get acl DIR/block.acl good.example.com",
		"show map nofile", "show map DIR/block.acl", "add map DIR/hosts.map", "set map DIR/hosts.map x",
		"del map DIR/hosts.map", "add acl DIR/block.acl", "get map", "clear map",
		"add map DIR/hosts.map c.example.com be_b",
		"set map DIR/hosts.map a.example.com be_b", "del map DIR/hosts.map b.example.com",
		"del map DIR/hosts.map nope", "set map DIR/hosts.map nope be_a", "add acl DIR/block.acl evil.example.com",
		"show map DIR/hosts.map", "show acl DIR/block.acl",
	} {
		cli(c)
	}
	for _, h := range []string{"a.example.com", "b.example.com", "c.example.com", "evil.example.com"} {
		get(h)
	}
	cli("del acl DIR/block.acl evil.example.com")
	cli("clear map DIR/hosts.map")
	get("a.example.com")
	cli("add map DIR/hosts.map <<\na.example.com be_a\n# a comment\nb.example.com   be_b\n")
	cli("show map DIR/hosts.map")
	get("a.example.com")
	get("b.example.com")
	get("evil.example.com")
	// The actions change the shared map the use_backend converter reads.
	get("set", "X-Set-Host: d.example.com", "X-Set-Backend: be_a")
	get("d.example.com")
	get("set", "X-Set-Host: d.example.com", "X-Set-Backend: be_b")
	get("d.example.com")
	cli("show map DIR/hosts.map")
	get("del", "X-Del-Host: d.example.com")
	get("d.example.com")
	cli("show map")
	// Versions: a new version is filled apart and replaces the live list
	// at once on commit.
	for _, c := range []string{
		"prepare map DIR/hosts.map", "prepare map DIR/hosts.map",
		"add map @2 DIR/hosts.map c.example.com be_b", "add map @1 DIR/hosts.map d.example.com be_a",
		"add map @5 DIR/hosts.map e e", "add map @0 DIR/hosts.map z be_a",
		"show map @2 DIR/hosts.map", "show map @1 DIR/hosts.map", "show map @0 DIR/hosts.map",
		"get map DIR/hosts.map c.example.com", "commit map @5 DIR/hosts.map", "commit map DIR/hosts.map",
		"commit map @x DIR/hosts.map", "clear map @1 DIR/hosts.map", "show map @1 DIR/hosts.map",
		"add map @1 DIR/hosts.map <<\np1 be_a\np2 be_b\n",
	} {
		cli(c)
	}
	get("c.example.com")
	cli("commit map @2 DIR/hosts.map")
	get("c.example.com")
	get("a.example.com")
	for _, c := range []string{
		"show map DIR/hosts.map", "show map @1 DIR/hosts.map", "commit map @1 DIR/hosts.map", "prepare map",
		"prepare acl DIR/block.acl", "add acl @1 DIR/block.acl x.example.com", "add acl @3 DIR/block.acl y",
		"show acl @1 DIR/block.acl", "commit acl @1 DIR/block.acl", "show acl DIR/block.acl",
		"del map @2 DIR/hosts.map p1", "set map @2 DIR/hosts.map p1 x",
	} {
		cli(c)
	}
	get("x.example.com")
	// A backslash escapes blanks and ';' (HAProxy's reg-test acl_cli_spaces).
	get("a.example.com", "User-Agent: Mon User Agent;")
	cli(`add acl DIR/agents.acl Mon\ User\ Agent\;`)
	cli("show acl DIR/agents.acl")
	get("a.example.com", "User-Agent: Mon User Agent;")
	get("a.example.com", "User-Agent: mon user agent;")
	get("a.example.com", "User-Agent: Mon User Agent")
	cli(`add map DIR/hosts.map two\ words be_b; show map DIR/hosts.map`)
	// HAProxy's entry_cnt miscounts after versions and refused adds.
	entryCnt := regexp.MustCompile(`entry_cnt=\d+`)
	step("show map (versions)", func(l mapsDiffLB) string {
		return entryCnt.ReplaceAllString(maskMaps(strings.ReplaceAll(send(t, "unix", l.sock, "show map"), filepath.Dir(l.sock), "DIR")), "")
	})
	cli("add map DIR/nets.map notanip x")
}

// mapID reads FILE's #ID from `show map` (ids differ: HAProxy numbers
// the anonymous pattern lists of conditions, in its own parse order).
func mapID(t *testing.T, l mapsDiffLB, file string) string {
	for _, line := range strings.Split(send(t, "unix", l.sock, "show map"), "\n") {
		if id, rest, ok := strings.Cut(line, " "); ok && strings.HasPrefix(rest, "("+file+")") {
			return id
		}
	}
	t.Fatalf("%s: %s not in show map", l.name, file)
	return ""
}

func startMapsLB(t *testing.T, name, hap, bin string) mapsDiffLB {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"hosts.map":  "# host backend\na.example.com be_a\n\n  b.example.com\tbe_b  \n",
		"nets.map":   "127.0.0.0/8 loopback\n127.0.0.1 localhost\n10.0.0.0/8 lan\n",
		"block.acl":  "# blocked\nbad.example.com\n",
		"agents.acl": "# user agents\n",
		"pfx.map":    "/a short\n/a/b long\n/a/b/c/d longest\n",
		"pfx.acl":    "/a\n/a/b\n",
	}
	for f, body := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(dir, "s.sock")
	cfg := filepath.Join(dir, "h.cfg")
	port := testenv.FreePort(t)
	if err := os.WriteFile(cfg, []byte(mapsDiffConfig(sock, port, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	if name == "haproxy" {
		testenv.Start(t, hap, "-db", "-f", cfg)
	} else {
		testenv.Start(t, bin, "run", "-f", cfg)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	testenv.WaitTCP(t, addr, 10*time.Second)
	if err := testenv.Until(10*time.Second, 10*time.Millisecond, func() error {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return mapsDiffLB{name, sock, addr}
}

var (
	mapPtr   = regexp.MustCompile(`0x[0-9a-f]+`)
	mapUsers = regexp.MustCompile(`used by .*\. curr_ver`)
	anonRef  = regexp.MustCompile(`(?m)^\d+ \(\) .*\n`)
	refID    = regexp.MustCompile(`(?m)^\d+ \(`)
)

// maskMaps hides what legitimately differs: entry pointers, the temporary
// directory, the configuration lines of each use (varde does not keep
// them), HAProxy's anonymous pattern lists (ACL values written inline,
// which varde does not list), and the ids (see mapID).
func maskMaps(s string) string {
	s = mapPtr.ReplaceAllString(s, "0xPTR")
	s = mapUsers.ReplaceAllString(s, "used by ... curr_ver")
	s = anonRef.ReplaceAllString(s, "")
	return refID.ReplaceAllString(s, "ID (")
}

// mapsGet sends one request and returns the status and, for a 200, the
// body (the deny pages differ in wording).
func mapsGet(t *testing.T, addr, host string, hdrs ...string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
	req.Host = host
	for _, h := range hdrs {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Do(req)
	if err != nil {
		return "error: " + err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return res.Status
	}
	return res.Status + " " + string(b)
}

func mapsGetPath(t *testing.T, addr, path string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Get("http://" + addr + path)
	if err != nil {
		return "error: " + err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.Status + " " + string(b)
}
