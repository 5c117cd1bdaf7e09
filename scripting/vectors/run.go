package vectors

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/acl/acltest"
	"github.com/varde-lb/varde/scripting"
)

// Result is one vector's outcome: Pass, or the mismatches in Fails (each
// with the script's error, file:line included, when one occurred).
type Result struct {
	Name  string
	Pass  bool
	Fails []string
}

// ErrorHooker is implemented by policies that report each failed call
// (the Lua engine does); the runner shows the script's error with its
// line and checks expected failure reasons.
type ErrorHooker interface {
	SetErrorHook(func(entry, reason string, err error))
}

type failure struct{ entry, reason, msg string }

// Run compiles the policy at path and runs every vector of f in order on
// that one policy (its shared table persists from vector to vector). An
// error is a policy that does not compile.
func Run(path string, f *File) ([]Result, error) {
	spec, err := specOf(path, f)
	if err != nil {
		return nil, err
	}
	pol, err := core.CompilePolicy(spec)
	if err != nil {
		return nil, err
	}
	defer pol.Close()
	var fails []failure
	if h, ok := pol.(ErrorHooker); ok {
		h.SetErrorHook(func(entry, reason string, err error) {
			fails = append(fails, failure{entry, reason, err.Error()})
		})
	}
	shared := scripting.SharedTables.Lookup(spec.Path)
	setShared(shared, f.Shared)
	var out []Result
	for _, v := range f.Vectors {
		setShared(shared, v.Shared)
		servers := buildServers(f.Servers)
		if v.Servers != nil {
			servers = buildServers(v.Servers)
		}
		r := Result{Name: v.Name}
		for _, entry := range sortedKeys(v.Expect, v.Errors) {
			fails = fails[:0]
			got, defined := runEntry(pol, entry, &v, servers)
			r.Fails = append(r.Fails, judge(entry, got, defined, v, fails)...)
		}
		r.Pass = len(r.Fails) == 0
		out = append(out, r)
	}
	return out, nil
}

func specOf(path string, f *File) (core.PolicySpec, error) {
	spec := core.PolicySpec{Path: path, Proxy: f.Proxy, Frontend: true, Backend: true, Backends: f.Backends}
	if spec.Proxy == "" {
		spec.Proxy = "test"
	}
	if f.Timeout != "" {
		d, err := time.ParseDuration(f.Timeout)
		if err != nil || d <= 0 {
			return spec, fmt.Errorf("vectors: timeout %q: want a Go duration such as 2ms", f.Timeout)
		}
		spec.Timeout = d
	}
	seen := map[string]bool{}
	add := func(ss []Server) {
		for _, s := range ss {
			if !seen[s.Name] {
				seen[s.Name] = true
				spec.Servers = append(spec.Servers, s.Name)
			}
		}
	}
	add(f.Servers)
	for _, v := range f.Vectors {
		add(v.Servers)
	}
	return spec, nil
}

func setShared(t *scripting.SharedTable, m map[string]any) {
	if t == nil {
		return
	}
	for k, v := range m {
		switch x := v.(type) {
		case float64, string, bool, nil:
			t.Set(k, x, 0)
		}
	}
}

func sortedKeys(a map[string]json.RawMessage, b map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for k := range a {
		seen[k] = true
		out = append(out, k)
	}
	for k := range b {
		if !seen[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// runEntry calls one entry point; got is a name, a bool (health) or nil.
func runEntry(pol core.Policy, entry string, v *Vector, servers []*core.Server) (got any, defined bool) {
	req := buildRequest(v.Request)
	switch entry {
	case "choose_backend":
		bc := pol.BackendChooser()
		if bc == nil {
			return nil, false
		}
		if name, ok := bc.ChooseBackend(req); ok {
			return name, true
		}
	case "choose_server":
		sc := pol.ServerChooser()
		if sc == nil {
			return nil, false
		}
		sc.Update(poolOf(servers))
		if s := sc.Pick(&core.PickContext{Req: req, Src: req.SrcAddr.Addr()}); s != nil {
			return s.Name, true
		}
	case "sticky_key":
		st := pol.Stickiness()
		if st == nil {
			return nil, false
		}
		if s := st.Lookup(req, servers); s != nil {
			return s.Name, true
		}
	case "health":
		hj := pol.HealthJudge()
		if hj == nil {
			return nil, false
		}
		var view core.ServerView
		for _, s := range servers {
			if s.Name == v.Server {
				view = s.View()
			}
		}
		if view.Name == "" {
			view.Name = v.Server
		}
		c := v.Check
		return hj.Judge(view, core.CheckResult{OK: c.OK, Status: c.Status, Code: c.Code, Info: c.Info, Body: []byte(c.Body)}), true
	}
	return nil, true
}

// judge compares one entry's outcome with the vector's expectations.
func judge(entry string, got any, defined bool, v Vector, fails []failure) []string {
	if !defined {
		return []string{fmt.Sprintf("%s: the policy does not define it", entry)}
	}
	var msgs []string
	for _, f := range fails {
		if f.entry == entry {
			msgs = append(msgs, f.reason+": "+f.msg)
		}
	}
	var out []string
	if want, ok := v.Errors[entry]; ok {
		found := false
		for _, f := range fails {
			found = found || (f.entry == entry && f.reason == want)
		}
		if !found {
			out = append(out, fmt.Sprintf("%s: expected a %s failure, got %s", entry, want, describe(got, msgs)))
		}
	}
	raw, ok := v.Expect[entry]
	if !ok {
		return out
	}
	var want any
	_ = json.Unmarshal(raw, &want) // validated by Parse
	if entry == "health" && want == nil {
		want = v.Check.OK
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || (got == nil) != (want == nil) {
		out = append(out, fmt.Sprintf("%s = %s, want %s", entry, describe(got, msgs), show(want)))
	} else if len(msgs) > 0 && v.Errors[entry] == "" {
		out = append(out, fmt.Sprintf("%s: right verdict but the script failed: %s", entry, strings.Join(msgs, "; ")))
	}
	return out
}

func describe(got any, msgs []string) string {
	s := show(got)
	if len(msgs) > 0 {
		s += " (" + strings.Join(msgs, "; ") + ")"
	}
	return s
}

func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil (built-in decides)"
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v)
}

func buildRequest(r Request) *acltest.Request {
	method := r.Method
	if method == "" {
		method = "GET"
	}
	uri := r.Path
	if uri == "" {
		uri = "/"
	}
	if r.Query != "" {
		uri += "?" + r.Query
	}
	var hdrs []string
	if r.Host != "" {
		hdrs = append(hdrs, "Host: "+r.Host)
	}
	for _, k := range sortedStrings(r.Headers) {
		hdrs = append(hdrs, k+": "+r.Headers[k])
	}
	if len(r.Cookies) > 0 {
		var parts []string
		for _, k := range sortedStrings(r.Cookies) {
			parts = append(parts, k+"="+r.Cookies[k])
		}
		hdrs = append(hdrs, "Cookie: "+strings.Join(parts, "; "))
	}
	req := acltest.New(method, uri, hdrs...)
	if r.Src != "" {
		req.SrcAddr = netip.AddrPortFrom(netip.MustParseAddr(r.Src), 40000)
	}
	req.IsTLS = r.SSL
	return req
}

func validAddr(s string) bool { _, err := netip.ParseAddr(s); return err == nil }

func sortedStrings(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func buildServers(ss []Server) []*core.Server {
	var out []*core.Server
	for i, s := range ss {
		w := 1
		if s.Weight != nil {
			w = *s.Weight
		}
		srv := core.NewServer("test", s.Name, i+1, netip.MustParseAddrPort("127.0.0.1:1"), w, s.MaxConn)
		srv.Backup, srv.Cookie = s.Backup, s.Cookie
		if s.Up != nil && !*s.Up {
			srv.SetHealth(core.HealthDown)
		}
		switch s.Admin {
		case "drain":
			srv.SetAdmin(core.AdminDrain)
		case "maint":
			srv.SetAdmin(core.AdminMaint)
		}
		srv.Active.Store(s.Active)
		srv.Queued.Store(s.Queue)
		srv.RTime.Store(int64(s.RTimeMS * 1e6))
		out = append(out, srv)
	}
	return out
}

// poolOf is what the engine hands choose_server: the usable servers of the
// active tier, or of the backup tier when no active one is usable.
func poolOf(servers []*core.Server) []*core.Server {
	var active, backup []*core.Server
	for _, s := range servers {
		if !s.Usable() {
			continue
		}
		if s.Backup {
			backup = append(backup, s)
		} else {
			active = append(active, s)
		}
	}
	if len(active) > 0 {
		return active
	}
	return backup
}
