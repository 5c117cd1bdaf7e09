package acl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/sample"
)

func parseIn(t *testing.T, refs *sample.PatRefs, words ...string) Matcher {
	t.Helper()
	var m Matcher
	var err error
	sample.WithPatRefs(refs, func() { m, err = ParseWords(words) })
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ACLs with -f files follow the files' run-time changes (add acl, del acl,
// clear acl, the add-acl action), several -f files and inline values
// together; -M reads a map file's keys.
func TestFileACLRuntimeChanges(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.lst")
	b := filepath.Join(dir, "b.lst")
	hosts := filepath.Join(dir, "hosts.map")
	os.WriteFile(a, []byte("10.0.0.0/8\n"), 0o644)
	os.WriteFile(b, []byte("# none yet\n"), 0o644)
	os.WriteFile(hosts, []byte("www.example.com be_www\n"), 0o644)
	refs := sample.NewPatRefs()
	src := parseIn(t, refs, "src", "-f", a, "-f", b, "172.16.0.0/12")
	host := parseIn(t, refs, "req.hdr(host),lower,field(1,:)", "-M", "-f", hosts)
	ra, rb, rh := refs.Lookup(a), refs.Lookup(b), refs.Lookup(hosts)
	if ra == nil || rb == nil || rh == nil || !rh.IsMap || ra.IsMap || !rh.HasACL {
		t.Fatalf("references: %+v", refs.List())
	}
	r := req() // src 192.168.1.20, Host www.Example.com:8080
	steps := []struct {
		name      string
		change    func() error
		src, host bool
	}{
		{"loaded", func() error { return nil }, false, true},
		{"add to the second file", func() error { return rb.Add(sample.PatEntry{Key: "192.168.0.0/16"}) }, true, true},
		{"first file cleared", ra.Clear, true, true},
		{"second file entry deleted", func() error { return rb.Del("192.168.0.0/16") }, false, true},
		{"map key deleted", func() error { return rh.Del("www.example.com") }, false, false},
		{"map key added by the action", func() error { return rh.SetOrAdd("www.example.com", "x") }, false, true},
	}
	for _, s := range steps {
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if src.Match(r) != s.src || host.Match(r) != s.host {
			t.Errorf("%s: src %v host %v, want %v %v", s.name, src.Match(r), host.Match(r), s.src, s.host)
		}
	}
	if err := rb.Add(sample.PatEntry{Key: "not-an-address"}); err == nil || !strings.Contains(err.Error(), "bad address") {
		t.Errorf("bad pattern added: %v", err)
	}
	if src.Match(r) {
		t.Error("a refused change applied")
	}
	if p := refs.Lookup(a).Users()[0].Probe("10.1.2.3"); p.Match != "ip" || p.Found {
		t.Errorf("probe of a cleared file: %+v", p)
	}
}

// `get acl` probes: the matching pattern, case and index as HAProxy shows.
func TestFileACLProbe(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "nets.lst")
	os.WriteFile(f, []byte("10.0.0.0/8\n10.1.0.0/16\n"), 0o644)
	g := filepath.Join(dir, "hosts.lst")
	os.WriteFile(g, []byte("bad.com\n"), 0o644)
	refs := sample.NewPatRefs()
	parseIn(t, refs, "src", "-f", f)
	parseIn(t, refs, "hdr(host)", "-i", "-f", g)
	if p := refs.Lookup(f).Users()[0].Probe("10.1.2.3"); !p.Found || p.Key != "10.1.0.0/16" || !p.Tree || p.Match != "ip" {
		t.Errorf("ip probe: %+v", p)
	}
	if p := refs.Lookup(g).Users()[0].Probe("BAD.com"); !p.Found || p.Key != "bad.com" || p.Tree || !p.Fold || p.Match != "str" {
		t.Errorf("str -i probe: %+v", p)
	}
}

// An ACL with -f files reports its fetch and stages like any other, so an
// HTTP fetch in a tcp-request condition is still refused.
func TestFileACLFetchesAndWhere(t *testing.T) {
	f := filepath.Join(t.TempDir(), "codes.lst")
	os.WriteFile(f, []byte("200\n"), 0o644)
	m := parseIn(t, nil, "status", "-f", f)
	var names []string
	fetchesOf(m, func(n string) { names = append(names, n) })
	if len(names) != 1 || names[0] != "status" {
		t.Errorf("fetches: %v", names)
	}
	if w, fetch := Where(m); w&sample.AtRequest != 0 || w&sample.AtResponse == 0 || fetch != "status" {
		t.Errorf("where: %v %q", w, fetch)
	}
}
