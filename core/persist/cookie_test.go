package persist_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/persist"
)

// req is a minimal core.Request for table tests: a method and header lines.
type req struct {
	method string
	hdrs   [][2]string
}

func (r req) Method() []byte { return []byte(r.method) }
func (r req) URI() []byte    { return []byte("/") }
func (r req) Path() []byte   { return []byte("/") }
func (r req) Query() []byte  { return nil }
func (r req) Header(n string) ([]byte, bool) {
	for _, h := range r.hdrs {
		if strings.EqualFold(h[0], n) {
			return []byte(h[1]), true
		}
	}
	return nil, false
}
func (r req) NumHeaders() int                 { return len(r.hdrs) }
func (r req) HeaderAt(i int) ([]byte, []byte) { return []byte(r.hdrs[i][0]), []byte(r.hdrs[i][1]) }
func (r req) Src() netip.AddrPort             { return netip.AddrPort{} }
func (r req) Dst() netip.AddrPort             { return netip.AddrPort{} }
func (r req) TLS() bool                       { return false }

func cookieReq(v string) req { return req{method: "GET", hdrs: [][2]string{{"Cookie", v}}} }

func servers() []*core.Server {
	var out []*core.Server
	for i, c := range []string{"s1", "s2", "s3"} {
		s := core.NewServer("app", "web"+c[1:], i+1, netip.MustParseAddrPort("127.0.0.1:80"), 1, 0)
		s.Cookie = c
		out = append(out, s)
	}
	return out
}

func TestLookup(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	isAdmin := func(r core.Request) bool { _, ok := r.Header("X-Admin"); return ok }
	for _, tc := range []struct {
		name  string
		cfg   persist.Config
		req   req
		setup func([]*core.Server)
		want  string // server name or ""
	}{
		{"no cookie", persist.Config{Mode: "insert"}, req{method: "GET"}, nil, ""},
		{"valid", persist.Config{Mode: "insert"}, cookieReq("a=1; SERVERID=s2; b=2"), nil, "web2"},
		{"second cookie header", persist.Config{Mode: "insert"}, req{method: "GET", hdrs: [][2]string{{"Cookie", "a=1"}, {"cookie", "SERVERID=s3"}}}, nil, "web3"},
		{"unknown value", persist.Config{Mode: "insert"}, cookieReq("SERVERID=s9"), nil, ""},
		{"tampered value", persist.Config{Mode: "insert"}, cookieReq("SERVERID=s1'; DROP TABLE"), nil, ""},
		{"empty value", persist.Config{Mode: "insert"}, cookieReq("SERVERID="), nil, ""},
		{"other cookie name", persist.Config{Mode: "insert"}, cookieReq("SERVERIDX=s1"), nil, ""},
		{"down: redispatch", persist.Config{Mode: "insert"}, cookieReq("SERVERID=s1"), func(s []*core.Server) { s[0].SetHealth(core.HealthDown) }, ""},
		{"down with option persist", persist.Config{Mode: "insert", Persist: true}, cookieReq("SERVERID=s1"), func(s []*core.Server) { s[0].SetHealth(core.HealthDown) }, "web1"},
		{"drain keeps persistent traffic", persist.Config{Mode: "insert"}, cookieReq("SERVERID=s1"), func(s []*core.Server) { s[0].SetAdmin(core.AdminDrain) }, "web1"},
		{"maint: redispatch", persist.Config{Mode: "insert", Persist: true}, cookieReq("SERVERID=s1"), func(s []*core.Server) { s[0].SetAdmin(core.AdminMaint) }, ""},
		{"maint with force-persist", persist.Config{Mode: "insert", ForcePersist: isAdmin}, req{method: "GET", hdrs: [][2]string{{"Cookie", "SERVERID=s1"}, {"X-Admin", "1"}}}, func(s []*core.Server) { s[0].SetAdmin(core.AdminMaint) }, "web1"},
		{"ignore-persist", persist.Config{Mode: "insert", IgnorePersist: isAdmin}, req{method: "GET", hdrs: [][2]string{{"Cookie", "SERVERID=s1"}, {"X-Admin", "1"}}}, nil, ""},
		{"prefix", persist.Config{Mode: "prefix"}, cookieReq("SERVERID=s3~abcdef"), nil, "web3"},
		{"prefix without tilde", persist.Config{Mode: "prefix"}, cookieReq("SERVERID=abcdef"), nil, ""},
		{"maxidle fresh", persist.Config{Mode: "insert", MaxIdle: time.Hour}, cookieReq("SERVERID=s2|" + b32(now.Add(-time.Minute)) + "|" + b32(now.Add(-time.Minute))), nil, "web2"},
		{"maxidle expired", persist.Config{Mode: "insert", MaxIdle: time.Hour}, cookieReq("SERVERID=s2|" + b32(now.Add(-2*time.Hour)) + "|" + b32(now.Add(-2*time.Hour))), nil, ""},
		{"maxlife expired", persist.Config{Mode: "insert", MaxLife: time.Hour}, cookieReq("SERVERID=s2|" + b32(now) + "|" + b32(now.Add(-2*time.Hour))), nil, ""},
		{"dates garbage", persist.Config{Mode: "insert", MaxIdle: time.Hour}, cookieReq("SERVERID=s2|zz!|x"), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Name = "SERVERID"
			tc.cfg.Now = func() time.Time { return now }
			c, err := persist.New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			ss := servers()
			if tc.setup != nil {
				tc.setup(ss)
			}
			got := ""
			if s := c.Lookup(tc.req, ss); s != nil {
				got = s.Name
			}
			if got != tc.want {
				t.Fatalf("Lookup = %q, want %q", got, tc.want)
			}
		})
	}
}

func b32(t time.Time) string {
	c, _ := persist.New(persist.Config{Name: "X", Mode: "insert", MaxIdle: time.Hour, Now: func() time.Time { return t }})
	s := &core.Server{Cookie: "v"}
	return strings.Split(c.Value(s), "|")[1]
}

func TestRequestField(t *testing.T) {
	ss := servers()
	for _, tc := range []struct {
		cfg     persist.Config
		in      string
		handled bool
		want    string
	}{
		{persist.Config{Mode: "insert", Indirect: true}, "a=1; SERVERID=s1; b=2", true, "Cookie: a=1; b=2\r\n"},
		{persist.Config{Mode: "insert", Indirect: true}, "SERVERID=s1", true, ""},
		{persist.Config{Mode: "insert", Indirect: true}, "a=1", false, ""},
		{persist.Config{Mode: "insert"}, "SERVERID=s1", false, ""},
		{persist.Config{Mode: "prefix"}, "SERVERID=s1~JSESSION42; x=y", true, "Cookie: SERVERID=JSESSION42; x=y\r\n"},
	} {
		tc.cfg.Name = "SERVERID"
		c, _ := persist.New(tc.cfg)
		out, handled := c.RequestField(nil, []byte("Cookie"), []byte(tc.in), ss[0])
		if handled != tc.handled || string(out) != tc.want {
			t.Errorf("%+v %q: got %q %v, want %q %v", tc.cfg.Mode, tc.in, out, handled, tc.want, tc.handled)
		}
	}
}

func TestResponseFields(t *testing.T) {
	ss := servers()
	get, post := req{method: "GET"}, req{method: "POST"}
	for _, tc := range []struct {
		name      string
		cfg       persist.Config
		req       req
		persisted bool
		want      string
	}{
		{"insert", persist.Config{Mode: "insert"}, get, false, "Set-Cookie: SERVERID=s1; path=/\r\n"},
		{"insert without indirect re-emits", persist.Config{Mode: "insert"}, get, true, "Set-Cookie: SERVERID=s1; path=/\r\n"},
		{"indirect valid cookie", persist.Config{Mode: "insert", Indirect: true}, get, true, ""},
		{"nocache and attributes", persist.Config{Mode: "insert", Indirect: true, NoCache: true, HTTPOnly: true, Secure: true, Domains: []string{".example.com"}}, get, false,
			"Set-Cookie: SERVERID=s1; path=/; domain=.example.com; HttpOnly; Secure\r\nCache-Control: private\r\n"},
		{"postonly GET", persist.Config{Mode: "insert", PostOnly: true}, get, false, ""},
		{"postonly POST", persist.Config{Mode: "insert", PostOnly: true}, post, false, "Set-Cookie: SERVERID=s1; path=/\r\n"},
		{"rewrite adds nothing", persist.Config{Mode: "rewrite"}, get, false, ""},
	} {
		tc.cfg.Name = "SERVERID"
		c, err := persist.New(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(c.ResponseFields(nil, tc.req, 200, ss[0], tc.persisted)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	c, _ := persist.New(persist.Config{Name: "JSESSIONID", Mode: "prefix"})
	if got, ok := c.RewriteSetCookie("JSESSIONID=abc; Path=/app", ss[1]); !ok || got != "JSESSIONID=s2~abc; Path=/app" {
		t.Errorf("prefix rewrite: %q %v", got, ok)
	}
	c, _ = persist.New(persist.Config{Name: "SRV", Mode: "rewrite"})
	if got, ok := c.RewriteSetCookie("SRV=placeholder", ss[2]); !ok || got != "SRV=s3" {
		t.Errorf("rewrite: %q %v", got, ok)
	}
}

func TestNewRejects(t *testing.T) {
	for _, cfg := range []persist.Config{{Name: ""}, {Name: "a b", Mode: "insert"}, {Name: "X", Mode: "bogus"}, {Name: "X", Mode: "prefix", MaxIdle: time.Second}} {
		if _, err := persist.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"SERVERID=s1", "a=1; SERVERID=s2|abc|def", "SERVERID=s3~x", ";;=;", "SERVERID"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		ss := servers()
		for _, mode := range []string{"insert", "prefix"} {
			cfg := persist.Config{Name: "SERVERID", Mode: mode, Indirect: true}
			if mode == "insert" {
				cfg.MaxIdle = time.Hour
			}
			c, _ := persist.New(cfg)
			if s := c.Lookup(cookieReq(v), ss); s != nil && s.Cookie == "" {
				t.Fatalf("%q matched a server without cookie", v)
			}
			c.RequestField(nil, []byte("Cookie"), []byte(v), ss[0])
		}
	})
}
