package vectors

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/varde-lb/varde/scripting/lua"
)

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{}`, "no vectors"},
		{`{"vectors": [{"name": "x"}]}`, "nothing expected"},
		{`{"vectors": [{"expect": {"choose_nothing": "a"}}]}`, "unknown entry point"},
		{`{"vectors": [{"expect": {"choose_server": 3}}]}`, "expects a name"},
		{`{"vectors": [{"expect": {"choose_server": true}}]}`, "expects a name or null"},
		{`{"vectors": [{"expect": {"health": true}}]}`, "needs \"check\""},
		{`{"vectors": [{"errors": {"health": "slow"}}]}`, "not an entry point and reason"},
		{`{"vectors": [{"expect": {"choose_backend": "a"}, "request": {"src": "nope"}}]}`, "not an IP"},
		{`{"vectors": [{"expect": {"choose_backend": "a"}, "request": {"headers": {"a b": "c"}}}]}`, "bad header"},
		{`{"servers": [{"name": "a"}, {"name": "a"}], "vectors": [{"expect": {"choose_backend": "a"}}]}`, "unique"},
		{`{"servers": [{"name": "a", "admin": "off"}], "vectors": [{"expect": {"choose_backend": "a"}}]}`, "admin"},
		{`{"colour": 1}`, "unknown field"},
		{`{"vectors": [{"expect": {"choose_backend": "a"}}]} {}`, "trailing"},
	} {
		if _, err := Parse([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.in, err, tc.want)
		}
	}
}

// TestRunReportsFailures: a wrong expectation fails with the script's
// error and line; an expected failure reason passes.
func TestRunReportsFailures(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "p.lua")
	os.WriteFile(script, []byte("function choose_backend(req)\n  if req.path == '/err' then error('boom') end\n  return 'a'\nend\n"), 0o644)
	f, err := Parse([]byte(`{"vectors": [
		{"name": "ok", "expect": {"choose_backend": "a"}},
		{"name": "wrong", "expect": {"choose_backend": "b"}},
		{"name": "err", "request": {"path": "/err"}, "expect": {"choose_backend": "a"}},
		{"name": "experr", "request": {"path": "/err"}, "expect": {"choose_backend": null}, "errors": {"choose_backend": "error"}},
		{"name": "undefined", "expect": {"choose_server": "a"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(script, f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ok": "", "wrong": `want "b"`, "err": "p.lua:2: boom", "experr": "", "undefined": "does not define"}
	for _, r := range res {
		w := want[r.Name]
		got := strings.Join(r.Fails, "; ")
		if (w == "") != r.Pass || !strings.Contains(got, w) {
			t.Errorf("%s: pass=%v fails=%q, want %q", r.Name, r.Pass, got, w)
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../../policies/*.vectors.json")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"vectors": [{"expect": {"health": null}, "check": {}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		if err == nil && len(v.Vectors) == 0 {
			t.Fatal("accepted a file without vectors")
		}
		if err == nil {
			for _, vec := range v.Vectors {
				buildRequest(vec.Request) // must not panic on anything Parse accepts
				buildServers(vec.Servers)
			}
		}
	})
}
