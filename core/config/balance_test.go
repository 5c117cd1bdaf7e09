package config_test

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/plugins/balance/balancetest"
)

// balanceCase is a backend body (after "backend b\n mode http\n"); want is
// "" for a configuration HAProxy 2.6 accepts, else "LINE:substring" of
// the one error expected.
type balanceCase struct {
	body, want string
}

var balanceCases = []balanceCase{
	// HAProxy 2.6 doc/configuration.txt "balance" and backend_parse_balance.
	{"balance roundrobin", ""},
	{"balance static-rr", ""},
	{"balance leastconn", ""},
	{"balance first", ""},
	{"balance source", ""},
	{"balance uri", ""},
	{"balance uri whole", ""},
	{"balance uri len 8", ""},
	{"balance uri depth 2", ""},
	{"balance uri path-only", ""},
	{"balance uri len 12 depth 2 whole path-only", ""},
	{"balance url_param userid", ""},
	{"balance url_param session_id check_post", "3:check_post is not built yet"},
	{"balance url_param session_id check_post 64", "3:check_post is not built yet"},
	{"balance hdr(User-Agent)", ""},
	{"balance hdr(host)", ""},
	{"balance hdr(Host) use_domain_only", ""},
	{"balance random", ""},
	{"balance random()", ""},
	{"balance random(1)", ""},
	{"balance random(3)", ""},
	{"balance roundrobin x", "3:roundrobin takes no argument"},
	{"balance leastconn(2)", "3:leastconn takes no parameter"},
	{"balance source ip", "3:source takes no argument"},
	{"balance uri len 0", "3:'len' expects a positive integer (got \"0\")"},
	{"balance uri depth -1", "3:'depth' expects a positive integer"},
	{"balance uri len", "3:'len' expects a positive integer"},
	{"balance uri deep 3", "3:uri only accepts 'len', 'depth', 'path-only' and 'whole'"},
	{"balance uri(x)", "3:uri takes no parameter"},
	{"balance url_param", "3:url_param requires an URL parameter name"},
	{"balance url_param uid post", "3:url_param only accepts 'check_post' modifier"},
	{"balance url_param uid check_post x", "3:MAX_WAIT must be a number"},
	{"balance hdr", "3:hdr requires an http header field name"},
	{"balance hdr()", "3:hdr requires an http header field name"},
	{"balance hdr(Host", "3:malformed algorithm"},
	{"balance hdr(Host) domain", "3:hdr only accepts 'use_domain_only' modifier"},
	{"balance random(0)", "3:number of draws must be at least 1"},
	{"balance random(two)", "3:is not an integer"},
	{"balance random 3", "3:random takes no argument"},
	{"balance", "3:balance needs an algorithm"},
	{"balance roundrobn", "3:unknown balance algorithm"},
	{"balance hash req.cookie(id)", "3:not supported by varde yet"},
	{"balance rdp-cookie", "3:not supported by varde yet"},
	// HAProxy 2.6 "hash-type": method, then an optional function and an
	// optional avalanche modifier after it.
	{"balance uri\n hash-type map-based", ""},
	{"balance uri\n hash-type consistent", ""},
	{"balance uri\n hash-type consistent djb2", ""},
	{"balance uri\n hash-type consistent wt6 avalanche", ""},
	{"balance uri\n hash-type map-based sdbm avalanche", ""},
	{"hash-type consistent crc32\n balance source", ""},
	{"balance uri\n hash-type consistent none", "4:unknown hash function \"none\""},
	{"balance uri\n hash-type consistent avalanche", "4:unknown hash function \"avalanche\""},
	{"balance uri\n hash-type consistent md5", "4:unknown hash function"},
	{"balance uri\n hash-type consistent sdbm fast", "4:only 'avalanche' is a modifier"},
	{"balance uri\n hash-type avalanche", "4:not supported anymore"},
	{"balance uri\n hash-type ring", "4:unknown hash-type"},
}

// TestBalanceArguments checks that the configuration layer accepts what
// HAProxy 2.6 accepts and refuses, with file:line and a hint, what the
// balancer would refuse; and that every accepted backend then builds.
func TestBalanceArguments(t *testing.T) {
	for _, tc := range balanceCases {
		t.Run(tc.body, func(t *testing.T) {
			var d diag.List
			cfg := config.Parse("t.cfg", []byte("backend b\n mode http\n "+tc.body+"\n server s1 127.0.0.1:80\n"), nil, &d)
			errs := errorsIn(&d)
			if tc.want == "" {
				if len(errs) > 0 {
					t.Fatalf("refused: %v", errs)
				}
				spec := core.BalanceSpec{Algorithm: "roundrobin"}
				if b := cfg.Backends[0].Balance; b != nil {
					spec = *b
				}
				bal, err := core.NewBalancer(spec)
				if err != nil {
					t.Fatalf("check accepts %+v, start refuses it: %v", spec, err)
				}
				bal.Update(balancetest.Servers(1, 1))
				if bal.Pick(&core.PickContext{}) == nil {
					t.Error("no server picked")
				}
				return
			}
			line, msg, _ := strings.Cut(tc.want, ":")
			if len(errs) != 1 || !strings.HasPrefix(errs[0].String(), "t.cfg:"+line+": error: ") || !strings.Contains(errs[0].Message, msg) {
				t.Fatalf("want one error at t.cfg:%s containing %q, got %v", line, msg, errs)
			}
			if errs[0].Hint == "" {
				t.Errorf("error without a hint: %s", errs[0])
			}
		})
	}
}

func errorsIn(d *diag.List) []diag.Diagnostic {
	var out []diag.Diagnostic
	for _, x := range d.Items() {
		if x.Severity == diag.Error {
			out = append(out, x)
		}
	}
	return out
}

// TestUnknownAlgorithmHints: did-you-mean only when close, otherwise the
// registered names.
func TestUnknownAlgorithmHints(t *testing.T) {
	for in, want := range map[string]string{
		"roundrobn": "(hint: did you mean `roundrobin`?)",
		"xyzzy":     "(hint: varde has first, hdr, leastconn, random, roundrobin, source, static-rr, uri, url_param)",
	} {
		var d diag.List
		config.Parse("t.cfg", []byte("backend b\n balance "+in+"\n"), nil, &d)
		errs := errorsIn(&d)
		if len(errs) != 1 || !strings.HasSuffix(errs[0].String(), want) {
			t.Errorf("balance %s: got %v, want ...%s", in, errs, want)
		}
	}
}

// FuzzBalanceLine checks the promise the registry exists for: whatever
// `balance` and `hash-type` lines the configuration accepts, the engine's
// constructor builds.
func FuzzBalanceLine(f *testing.F) {
	for _, tc := range balanceCases {
		f.Add(tc.body)
	}
	f.Add("balance hdr((x))")
	f.Add("balance random(-1)")
	f.Add("balance uri len 99999999999999999999")
	f.Fuzz(func(t *testing.T, body string) {
		var d diag.List
		cfg := config.Parse("t.cfg", []byte("backend b\n "+body+"\n"), nil, &d)
		if d.HasErrors() || len(cfg.Backends) == 0 || cfg.Backends[0].Balance == nil {
			return
		}
		if _, err := core.NewBalancer(*cfg.Backends[0].Balance); err != nil {
			t.Fatalf("%q: accepted by check, refused at start: %v", body, err)
		}
	})
}
