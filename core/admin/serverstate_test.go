package admin

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/health"
)

const ssHeader = "1\n# be_id be_name srv_id srv_name srv_addr ...\n"

func ssLine(be, srv string, fields ...string) string {
	f := []string{"3", be, "1", srv, "127.0.0.1", "2", "0", "1", "1", "0", "0", "0", "0", "0", "0", "0", "0", "-", "80", "-", "0", "0", "-", "-", "0"}
	for i := 0; i+1 < len(fields); i += 2 {
		var n int
		for _, c := range fields[i] {
			n = n*10 + int(c-'0')
		}
		f[n] = fields[i+1]
	}
	return strings.Join(f, " ") + "\n"
}

// TestReadStateFile: what HAProxy's apply_server_state warns about and
// which lines it keeps, file by file.
func TestReadStateFile(t *testing.T) {
	dir := t.TempDir()
	long := "1\n" + strings.Repeat("x", 2100) + "\n"
	cases := []struct {
		name, text string
		keep       []string // "backend server" keys kept
		warn       string   // substring of the one warning, "" for none
	}{
		{"missing", "", nil, "Can't open global server state file"},
		{"empty", "\x00", nil, "Can't get version"},
		{"version 2", "2\n" + ssLine("b", "s"), nil, "Can't get version"},
		{"version trailing", "1 \n" + ssLine("b", "s"), nil, "Can't get version"},
		{"good", ssHeader + ssLine("b", "s1") + "\n   \n# c\n" + ssLine("b", "s2"), []string{"b s1", "b s2"}, ""},
		{"tabs", "1\n" + strings.ReplaceAll(ssLine("b", "s1"), " ", "\t"), []string{"b s1"}, ""},
		{"too few fields", ssHeader + "3 b 1 s1 127.0.0.1 2 0\n", nil, "corrupted global server state file"},
		{"no final newline", ssHeader + strings.TrimSuffix(ssLine("b", "s1"), "\n"), nil, "corrupted"},
		{"line too long", long, nil, "corrupted"},
		{"duplicate keeps first", ssHeader + ssLine("b", "s1", "7", "5") + ssLine("b", "s1", "7", "9"), []string{"b s1"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			if c.text == "\x00" {
				os.WriteFile(path, nil, 0o644)
			} else if c.text != "" {
				os.WriteFile(path, []byte(c.text), 0o644)
			}
			var d diag.List
			got := readStateFile(path, diag.Pos{File: "h.cfg", Line: 2}, "config: ", "global ", nil, 0, &d)
			for _, k := range c.keep {
				if _, ok := got[k]; !ok {
					t.Errorf("line %q not kept: %v", k, got)
				}
			}
			if len(got) != len(c.keep) {
				t.Errorf("kept %d lines, want %d", len(got), len(c.keep))
			}
			items := d.Items()
			switch {
			case c.warn == "" && len(items) > 0:
				t.Errorf("unexpected diagnostics: %v", items)
			case c.warn != "" && (len(items) != 1 || !strings.Contains(items[0].String(), c.warn) || items[0].Severity != diag.Warning):
				t.Errorf("diagnostics %v, want one warning with %q", items, c.warn)
			}
			if c.name == "duplicate keeps first" && got["b s1"].f[7] != "5" {
				t.Errorf("kept %v, want the first line", got["b s1"].f)
			}
		})
	}
}

// TestLocalStateFileBackendChecks: a local file's lines are checked against
// the backend's id and name as HAProxy does.
func TestLocalStateFileBackendChecks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.state")
	text := "1\n" +
		strings.Replace(ssLine("app", "s1"), "3 ", "3 ", 1) + // id and name match
		"9 app 2 s2 127.0.0.1 2 0 1 1 0 0 0 0 0 0 0 0 - 80 - 0 0 - - 0\n" + // id mismatch: warn, keep
		"3 old 3 s3 127.0.0.1 2 0 1 1 0 0 0 0 0 0 0 0 - 80 - 0 0 - - 0\n" + // name mismatch, id not forced: warn, skip
		"3 old 4 s4 127.0.0.1 2 0 1 1 0 0 0 0 0 0 1 0 - 80 - 0 0 - - 0\n" + // name mismatch, id forced: warn, keep
		"8 zzz 5 s5 127.0.0.1 2 0 1 1 0 0 0 0 0 0 0 0 - 80 - 0 0 - - 0\n" // another backend: skipped silently
	os.WriteFile(path, []byte(text), 0o644)
	var d diag.List
	got := readStateFile(path, diag.Pos{}, "Proxy 'app': ", "", &config.Proxy{Name: "app"}, 3, &d)
	for _, k := range []string{"app s1", "app s2", "app s4"} {
		if _, ok := got[k]; !ok {
			t.Errorf("%q not kept", k)
		}
	}
	if len(got) != 3 {
		t.Errorf("kept %v, want 3 lines", got)
	}
	if n := len(d.Items()); n != 3 {
		t.Errorf("%d warnings, want 3: %v", n, d.Items())
	}
}

// TestValidStateLine: the values HAProxy refuses to apply, each named.
func TestValidStateLine(t *testing.T) {
	cases := []struct {
		set  []string
		want string
	}{
		{nil, ""},
		{[]string{"5", "4"}, "srv_op_state"},
		{[]string{"5", "x"}, "srv_op_state"},
		{[]string{"6", "2"}, ""},  // IMAINT is dropped
		{[]string{"6", "64"}, ""}, // HMAINT is dropped
		{[]string{"6", "9"}, "srv_admin_state"},
		{[]string{"6", "12"}, ""}, // CMAINT|FDRAIN
		{[]string{"7", "257"}, "srv_uweight"},
		{[]string{"8", "-1"}, "srv_iweight"},
		{[]string{"10", "25"}, "srv_check_status"},
		{[]string{"11", "5"}, "srv_check_result"},
		{[]string{"13", "32"}, "srv_check_state"},
		{[]string{"14", "6"}, ""},
		{[]string{"15", "2"}, "bk_f_forced_id"},
		{[]string{"18", "70000"}, "srv_port"},
		{[]string{"7", "12abc"}, ""}, // strtol reads the digits
	}
	for _, c := range cases {
		f := strings.Fields(ssLine("b", "s", c.set...))
		got := validStateLine(f)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%v: got %q, want %q", c.set, got, c.want)
		}
	}
}

// FuzzStateFile: no state file, however broken, panics the reader or the
// validation.
func FuzzStateFile(f *testing.F) {
	f.Add(ssHeader + ssLine("b", "s1"))
	f.Add("1\n3 b 1 s1 - 0 5 7 1 x\n")
	f.Add("1\n\t#\n" + strings.Repeat("a ", 30) + "\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		path := filepath.Join(dir, "f.state")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Skip()
		}
		var d diag.List
		for _, px := range []*config.Proxy{nil, {Name: "b"}} {
			for _, l := range readStateFile(path, diag.Pos{}, "", "", px, 3, &d) {
				if len(l.f) < stateMinFields || len(l.f) > stateMaxFields {
					t.Fatalf("kept a line of %d fields", len(l.f))
				}
				validStateLine(l.f)
			}
		}
	})
}

// TestApplyServerStateRules: HAProxy's precedence between the saved state
// and the configuration (srv_state_srv_update).
func TestApplyServerStateRules(t *testing.T) {
	cases := []struct {
		name     string
		disabled bool // `disabled` in the configuration
		cfgW     int
		set      []string
		admin    core.AdminState
		weight   int
		up       bool
	}{
		{"forced maint kept", false, 1, []string{"6", "1"}, core.AdminMaint, 1, true},
		{"config disabled since wins", true, 1, []string{"6", "0"}, core.AdminMaint, 1, true},
		{"config enabled since wins", false, 1, []string{"6", "5"}, core.AdminReady, 1, true},
		{"enabled at runtime stays ready", true, 1, []string{"6", "4"}, core.AdminReady, 1, true},
		{"drain kept", false, 1, []string{"6", "8"}, core.AdminDrain, 1, true},
		{"drain from weight 0 dropped when weight raised", false, 2, []string{"6", "8", "8", "0"}, core.AdminReady, 2, true},
		{"user weight applied", false, 4, []string{"7", "9", "8", "4"}, core.AdminReady, 9, true},
		{"configured weight changed wins", false, 4, []string{"7", "9", "8", "3"}, core.AdminReady, 4, true},
		{"stopped", false, 1, []string{"5", "0"}, core.AdminReady, 1, false},
		{"stopping is up, NOLB", false, 1, []string{"5", "3"}, core.AdminReady, 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &core.Server{Backend: "b", Name: "s", ConfigWeight: c.cfgW, Addr: netip.MustParseAddrPort("127.0.0.1:80")}
			s.SetWeight(c.cfgW)
			if c.disabled {
				s.InitAdmin(core.AdminMaint)
			}
			m := health.NewManager(health.Options{})
			if err := m.Add(s, health.Config{}); err != nil {
				t.Fatal(err)
			}
			f := strings.Fields(ssLine("b", "s", c.set...))
			if msg := validStateLine(f); msg != "" {
				t.Fatal(msg)
			}
			applyOne(stateApply{srv: s, conf: &config.Server{ServerOptions: config.ServerOptions{Disabled: c.disabled}}, line: stateLine{f: f}}, m)
			if s.Admin() != c.admin || s.Weight() != c.weight || s.IsUp() != c.up {
				t.Errorf("admin %v weight %d up %v; want %v %d %v", s.Admin(), s.Weight(), s.IsUp(), c.admin, c.weight, c.up)
			}
		})
	}
}

// A huge srv_last_time_change cannot overflow into a last change in the
// future: it is clamped to the epoch at the most.
func TestStateLastChangeClamped(t *testing.T) {
	s := &core.Server{Backend: "b", Name: "s", ConfigWeight: 1, Addr: netip.MustParseAddrPort("127.0.0.1:80")}
	s.SetWeight(1)
	m := health.NewManager(health.Options{})
	if err := m.Add(s, health.Config{}); err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(ssLine("b", "s", "9", "10000000000"))
	if msg := validStateLine(f); msg != "" {
		t.Fatal(msg)
	}
	applyOne(stateApply{srv: s, conf: &config.Server{}, line: stateLine{f: f}}, m)
	if lc := s.LastChange.Load(); lc > time.Now().UnixNano() {
		t.Fatalf("last change %v is in the future", time.Unix(0, lc))
	}
}
