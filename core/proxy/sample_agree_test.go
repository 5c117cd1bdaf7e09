package proxy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/logpipe"
)

// TestSampleCheckAgreesWithRun: every sample expression `varde check`
// accepts, the engine and the log pipeline build; every one it refuses is
// reported with file:line. The first cases are those issue 10 found
// accepted by check and refused by run.
func TestSampleCheckAgreesWithRun(t *testing.T) {
	const head = "defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend fe\n    bind 127.0.0.1:1\n"
	const tail = "    default_backend app\nbackend app\n    server s1 127.0.0.1:2\nbackend be_shop\n    server s1 127.0.0.1:3\n"
	for _, tc := range []struct {
		name, lines, wantErr string
	}{
		{"log-format req.hdr", "    log stdout format raw local0\n    log-format \"%ci %[req.hdr(host)] %[srv_id]\"\n", ""},
		{"set-header url", "    http-request set-header X %[url]\n", ""},
		{"dynamic use_backend", "    use_backend be_%[req.hdr(host),lower,field(1,.)]\n", ""},
		{"redirect", "    http-request redirect location https://%[req.hdr(host)]%[path] if { path_beg /x }\n", ""},
		{"response status", "    http-response set-header X-S %[status]\n", ""},
		{"acl with converter", "    acl h req.hdr(host),lower -m beg www.\n    http-request deny if h\n", ""},
		{"response ACLs in http-response", "    acl json res.hdr(content-type) -m sub json\n    http-response set-header X-E 1 if { status 404 } || json\n", ""},
		{"status ACL in http-request", "    acl err status ge 500\n    http-request deny if err\n",
			`t.cfg:9: error: http-request deny: ACL "err" uses fetch "status", which is not available in http-request rules (hint: it exists at response, log time)`},
		{"res.hdr in use_backend", "    use_backend be_shop if { res.hdr(x) -m found }\n",
			`t.cfg:8: error: use_backend: anonymous ACL uses fetch "res.hdr", which is not available in request conditions (hint: it exists at response, log time)`},
		{"status in http-request", "    http-request set-header X %[status]\n",
			`t.cfg:8: error: http-request set-header: %[ at offset 0: fetch "status" is not available in http-request rules (hint: it exists at response, log time)`},
		{"unknown fetch in log-format", "    log-format \"%ci %[req.hdrx(host)]\"\n",
			`t.cfg:8: error: log-format: %[ at offset 4: unknown fetch "req.hdrx" (hint: did you mean "req.hdr"?)`},
		{"unknown converter in use_backend", "    use_backend be_%[req.hdr(host),lowr]\n",
			`t.cfg:8: error: use_backend: %[ at offset 3: unknown converter "lowr" (hint: did you mean "lower"?)`},
		{"bad converter args in acl", "    acl h path,field(0,/) x\n    http-request deny if h\n",
			`t.cfg:8: error: acl: ACL criterion "path": field: index 0: fields count from 1 (or from -1 at the end)`},
		{"missing map file", "    http-request set-header X %[req.hdr(host),map(/nonexistent/hosts.map)]\n",
			`t.cfg:8: error: http-request set-header: %[ at offset 0: map: map file: open /nonexistent/hosts.map: no such file or directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.cfg")
			if err := os.WriteFile(path, []byte(head+tc.lines+tail), 0o644); err != nil {
				t.Fatal(err)
			}
			set, d := config.LoadFiles([]string{path}, os.Getenv)
			var errs []string
			for _, it := range d.Items() {
				if it.Severity.String() == "error" {
					errs = append(errs, strings.Replace(it.String(), path, "t.cfg", 1))
				}
			}
			if tc.wantErr != "" {
				if len(errs) == 0 || errs[0] != tc.wantErr {
					t.Fatalf("check errors %q\nwant %s", errs, tc.wantErr)
				}
				return
			}
			if len(errs) != 0 {
				t.Fatalf("check refused: %q", errs)
			}
			if _, err := FromConfig(set.HAProxy); err != nil {
				t.Fatalf("check accepted, the engine refused: %v", err)
			}
			specs, o, err := logpipe.SpecsFromConfig(set.HAProxy)
			if err == nil {
				var p *logpipe.Pipeline
				if p, err = logpipe.NewFromSpecs(specs, o, nil); err == nil {
					p.Close(context.Background())
				}
			}
			if err != nil {
				t.Fatalf("check accepted, the log pipeline refused: %v", err)
			}
		})
	}
}
