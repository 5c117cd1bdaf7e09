package acl

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/acl/acltest"
	"github.com/varde-lb/varde/core/testenv"
)

// diffACLs are evaluated one by one by HAProxy (each matching ACL adds its
// name to a request header the backend echoes) and by this package.
var diffACLs = []string{
	"p_exact path /api/v1/users",
	"p_beg_i path_beg -i /API",
	"p_end path_end .css .js",
	"p_sub path_sub min",
	"p_reg path_reg ^/v[0-9]+/items$",
	"p_dir path_dir v1",
	"p_len path_len gt 12",
	"p_m_beg path -m beg /static/",
	"u_beg url_beg /cart?",
	"u_sub url_sub -i DEBUG",
	"u_reg url_reg [?&]id=[0-9]+",
	"u_exact url /cart?id=7",
	"up_val url_param(id) 7 42",
	"up_found url_param(id) -m found",
	"up_beg url_param(lang) -m beg n",
	"m_get method GET HEAD",
	"m_other_i method -i purge",
	"m_post_i method -i post", // never matches POST in HAProxy: -i only applies to other methods
	"h_host hdr(host) -i www.example.com",
	"h_beg hdr_beg(host) -i api.",
	"h_end hdr_end(host) .org",
	"h_sub hdr_sub(user-agent) -i curl",
	"h_reg hdr_reg(x-id) ^[a-f0-9]{4}$",
	"h_dom hdr_dom(host) -i example.org",
	"h_xff2 hdr(x-forwarded-for) 10.0.0.2",
	"h_cnt hdr_cnt(x-forwarded-for) ge 2",
	"h_val hdr_val(x-num) gt 10",
	"h_len hdr_len(host) lt 12",
	"h_found hdr(x-id) -m found",
	"f_xff req.fhdr(x-forwarded-for) 10.0.0.1,10.0.0.2",
	"c_val cook(sess) abc",
	"c_beg cook_beg(sess) ab",
	"c_found cook(theme) -m found",
	"b_beg base_beg -i www.example.com/api",
	"b_sub base_sub example.org/static",
	"q_sub query -m sub lang=",
	"s_net src 127.1.0.0/16",
	"s_ip src 127.0.0.1 127.2.0.1",
	"ssl ssl_fc",
	"d_meth METH_GET",
	"d_slash HTTP_URL_SLASH",
	"d_content HTTP_CONTENT",
	"d_local LOCALHOST",
	"d_abs HTTP_URL_ABS",
	// Generic fetches and converters through core/sample.
	"cv_lower req.hdr(host),lower -m beg www.",
	"cv_field path,field(3,/) v1",
	"cv_word path,word(-1,/) users",
	"cv_len req.hdr(host),length gt 12",
	"cv_xff req.hdr(x-forwarded-for,1) 10.0.0.1",
	"cv_xff_last req.hdr(x-forwarded-for) 10.0.0.3",
	"cv_xff_ip req.hdr(x-forwarded-for) -m ip 10.0.0.2",
	"cv_hdrcnt req.hdr_cnt(x-forwarded-for),mul(2) 4",
	"cv_upper req.cook(sess),upper ABCD",
	"cv_regsub path,regsub(/v[0-9]+/,/V/) -m beg /api/V/",
	"cv_urldec url,url_dec -m sub id=7",
	"cv_djb2 req.hdr(host),djb2,mod(3) 1",
	"cv_ipmask src,ipmask(16) 127.1.0.0",
	"cv_query query -m found",
	"cv_urlp_val urlp_val(id) gt 10",
	"cv_hdr_ip hdr_ip(x-forwarded-for) 10.0.0.2",
}

type aclProbe struct {
	method, uri string
	headers     []string
	body        string
	src         netip.Addr
}

func aclProbes() []aclProbe {
	uris := []string{"/", "/api/v1/users", "/API/v2/x", "/static/app.min.js", "/site.css", "/v2/items", "/v22/items/1",
		"/cart?id=7", "/cart?id=42&lang=nb", "/cart?lang=en&debug=1", "/x?DEBUG", "/a/v1/b", "/very/long/path/here",
		"http://www.example.com/api/v1/users", "/cart?id=x7"}
	hosts := []string{"www.example.com", "WWW.EXAMPLE.COM", "api.example.net", "shop.example.org", "example.org", "a.io"}
	methods := []string{"GET", "POST", "HEAD", "PUT", "get", "PURGE", "Purge"}
	srcs := []string{"127.0.0.1", "127.1.2.3", "127.2.0.1", "127.3.3.3"}
	var ps []aclProbe
	for i, u := range uris {
		for j, h := range hosts {
			k := i*len(hosts) + j
			if strings.HasPrefix(u, "http://") {
				h = "www.example.com" // HAProxy rejects a Host that differs from the authority
			}
			p := aclProbe{method: methods[k%len(methods)], uri: u, headers: []string{"Host: " + h}, src: netip.MustParseAddr(srcs[k%len(srcs)])}
			switch k % 4 {
			case 0:
				p.headers = append(p.headers, "X-Forwarded-For: 10.0.0.1, 10.0.0.2")
			case 1:
				p.headers = append(p.headers, "X-Forwarded-For: 10.0.0.1", "X-Forwarded-For: 10.0.0.3")
			case 2:
				p.headers = append(p.headers, "X-Forwarded-For: 10.0.0.1,10.0.0.2")
			}
			switch k % 5 {
			case 0:
				p.headers = append(p.headers, "Cookie: sess=abc; theme=dark")
			case 1:
				p.headers = append(p.headers, "Cookie: sess=abcd")
			case 2:
				p.headers = append(p.headers, "User-Agent: curl/8.1", "X-Id: beef")
			case 3:
				p.headers = append(p.headers, "User-Agent: Mozilla", "X-Id: BEEF1", fmt.Sprintf("X-Num: %d", k))
			}
			if p.method == "POST" && k%2 == 0 {
				p.body = "abc"
			}
			ps = append(ps, p)
		}
	}
	return ps
}

// TestSameMatchesAsHAProxy evaluates every ACL above on every probe in a
// real HAProxy and in varde and compares the sets of matching ACLs.
func TestSameMatchesAsHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and varde")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	set := NewSet()
	var names []string
	for _, line := range diffACLs {
		w := strings.Fields(line)
		names = append(names, w[0])
		if _, ok := Predefined(w[1]); ok && len(w) == 2 {
			continue
		}
		if err := set.Add(w[0], w[1:]); err != nil {
			t.Fatal(line, err)
		}
	}
	lookup := func(line string) Matcher {
		w := strings.Fields(line)
		if m, ok := set.Lookup(w[0]); ok {
			return m
		}
		m, _ := Predefined(w[1])
		return m
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Matched", strings.Join(r.Header.Values("X-Acl-Match"), " "))
	}), ReadHeaderTimeout: 5 * time.Second, DisableGeneralOptionsHandler: true}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	token := fmt.Sprintf("acl-%d", os.Getpid())
	// The ACLs are spread over frontends of at most 15 each, so that no
	// request gets more than 15 added headers: varde's engine keeps at most
	// 16 header edits per message (HAProxy has no such limit).
	const perFrontend = 15
	groups := (len(diffACLs) + perFrontend - 1) / perFrontend
	writeCfg := func(ports []int) string {
		var cfg strings.Builder
		fmt.Fprintf(&cfg, "global\n  nbthread 1\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n")
		for g, port := range ports {
			fmt.Fprintf(&cfg, "frontend f%d\n  bind 127.0.0.1:%d\n  http-response set-header X-Token %s\n", g, port, token)
			for _, line := range diffACLs[g*perFrontend : min(len(diffACLs), (g+1)*perFrontend)] {
				w := strings.Fields(line)
				if _, ok := Predefined(w[1]); ok && len(w) == 2 {
					fmt.Fprintf(&cfg, "  http-request add-header X-Acl-Match %s if %s\n", w[0], w[1])
					continue
				}
				fmt.Fprintf(&cfg, "  acl %s\n  http-request add-header X-Acl-Match %s if %s\n", line, w[0], w[0])
			}
			fmt.Fprintf(&cfg, "  default_backend b\n")
		}
		fmt.Fprintf(&cfg, "backend b\n  server s %s\n", l.Addr())
		path := filepath.Join(t.TempDir(), "haproxy.cfg")
		if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ports := testenv.FreePorts(t, 2*groups)
	hPorts, vPorts := ports[:groups], ports[groups:]
	cfgPath := writeCfg(hPorts)
	if out, err := exec.Command(haproxy, "-c", "-f", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	_, hLog := testenv.Start(t, haproxy, "-f", cfgPath, "-db")
	// The same configuration under the varde binary checks the engine's
	// request view and rule evaluation against HAProxy as well.
	_, vLog := testenv.Start(t, testenv.VardeBinary(t), "run", "-f", writeCfg(vPorts))
	testenv.WaitListening(t, "haproxy", hLog, hPorts...)
	testenv.WaitListening(t, "varde", vLog, vPorts...)
	// matched asks every frontend of one process and joins the answers.
	matched := func(ports []int, p aclProbe) (string, error) {
		var all []string
		for _, port := range ports {
			m, err := aclSend(port, token, p)
			if err != nil {
				return "", err
			}
			all = append(all, strings.Fields(m)...)
		}
		return strings.Join(all, " "), nil
	}

	hits := map[string]int{}
	for _, p := range aclProbes() {
		got, err := matched(hPorts, p)
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		req := acltest.New(p.method, p.uri, p.headers...)
		req.SrcAddr = netip.AddrPortFrom(p.src, 40000)
		if p.body != "" {
			req.Names = append(req.Names, []byte("Content-Length"))
			req.Values = append(req.Values, []byte(fmt.Sprint(len(p.body))))
		}
		var want []string
		for i, line := range diffACLs {
			if lookup(line).Match(req) {
				want = append(want, names[i])
			}
		}
		if strings.Join(want, " ") != got {
			t.Errorf("%s %s %q from %s:\n  HAProxy matched: %s\n  varde matched:   %s", p.method, p.uri, p.headers, p.src, got, strings.Join(want, " "))
		}
		engine, err := matched(vPorts, p)
		if err != nil {
			logs, _ := os.ReadFile(vLog)
			t.Fatalf("varde: %+v: %v\n%s", p, err, logs)
		}
		if engine != got {
			t.Errorf("%s %s %q from %s:\n  HAProxy matched:     %s\n  varde binary matched: %s", p.method, p.uri, p.headers, p.src, got, engine)
		}
		for _, n := range strings.Fields(got) {
			hits[n]++
		}
	}
	// Every ACL must match some probe and miss another, or it proves little.
	for _, n := range names {
		// ssl_fc is false and m_post_i never matches (HAProxy's rule).
		if hits[n] == 0 && !slices.Contains([]string{"ssl", "m_post_i"}, n) {
			t.Errorf("ACL %s matched no probe", n)
		}
		// Every client is on loopback, so LOCALHOST always holds.
		if hits[n] == len(aclProbes()) && n != "d_local" {
			t.Errorf("ACL %s matched every probe", n)
		}
	}
}

func aclSend(port int, token string, p aclProbe) (string, error) {
	d := net.Dialer{Timeout: 3 * time.Second, LocalAddr: &net.TCPAddr{IP: p.src.AsSlice()}}
	conn, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", p.method, p.uri)
	for _, h := range p.headers {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\nConnection: close\r\n\r\n%s", len(p.body), p.body)
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: strings.ToUpper(p.method)})
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.Header.Get("X-Token") != token {
		return "", fmt.Errorf("status %d, token %q: not our haproxy", resp.StatusCode, resp.Header.Get("X-Token"))
	}
	return resp.Header.Get("X-Matched"), nil
}
