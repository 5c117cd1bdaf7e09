package haproxylua

import (
	"context"
	"fmt"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/generation"
	"github.com/varde-lb/varde/core/proxy"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/core/stats"
)

// OrderLua runs between the log pipeline (10) and the engine (20): the
// engine binds its lua.NAME rules to the host this publishes.
const OrderLua = 15

func init() {
	generation.Register(generation.Subsystem{Name: "haproxy-lua", Order: OrderLua, Prepare: prepare})
}

type part struct {
	g *generation.Generation
	h *Host
}

// prepare loads every lua-load script (bodies and register_init run, as
// HAProxy does at start-up), reports script errors with the script's
// file:line, and checks every lua.NAME the configuration uses.
func prepare(g *generation.Generation, d *diag.List) generation.Part {
	c := g.HAProxy()
	if c == nil || len(c.Global.LuaLoad) == 0 {
		if c != nil {
			checkRefs(c, nil, d)
		}
		return nil
	}
	h, errs := NewHost(c, g.Opts.Logger)
	for _, err := range errs {
		d.Add(diag.Locate(err, c.Global.LuaLoad[0].Pos, "lua-load", ""))
	}
	if h == nil {
		return nil
	}
	if !checkRefs(c, h, d) {
		h.Close()
		return nil
	}
	proxy.ScriptHostOf.Set(g, h)
	g.AddExtra(func() []stats.Extra {
		return []stats.Extra{
			{Subsystem: "haproxy_lua", Name: "calls_total", Help: "Calls of lua-load actions, fetches, converters and services.", Counter: true, Value: float64(h.Calls.Load())},
			{Subsystem: "haproxy_lua", Name: "runtime_errors_total", Help: "lua-load calls that failed (error, deadline) and were logged at a bounded rate.", Counter: true, Value: float64(h.Errors.Load())},
		}
	})
	return &part{g: g, h: h}
}

// Start hands the running engine to core.backends' server objects.
func (p *part) Start(context.Context) error {
	if e := proxy.EngineOf.Get(p.g); e != nil {
		p.h.eng.Store(e)
	}
	return nil
}

func (p *part) Stop(context.Context) error { p.h.Close(); return nil }
func (p *part) Close() error               { p.h.Close(); return nil }

// checkRefs reports, at their configuration lines, the lua.NAME actions,
// services, fetches and converters no script registered (h nil: no
// lua-load at all).
func checkRefs(c *config.Config, h *Host, d *diag.List) bool {
	ok := true
	// Rules of a defaults section are also every proxy's: one report each.
	seen := map[string]bool{}
	errorf := func(pos diag.Pos, kw, hint, format string, args ...any) {
		ok = false
		msg := fmt.Sprintf(format, args...)
		if key := fmt.Sprint(pos, msg); !seen[key] {
			seen[key] = true
			d.Errorf(pos, kw, hint, "%s", msg)
		}
	}
	bad := func(pos diag.Pos, kw, what, name string, names []string, extra string) {
		hint := "register it with core.register_" + map[string]string{"action": "action", "service": "service", "fetch": "fetches", "converter": "converters"}[what] + " in a lua-load script"
		if h == nil {
			hint = "load the script that registers it with lua-load in the global section"
		} else if n, dist := diag.Nearest(name, names); n != "" && dist <= max(len(name)/3, 2) && dist < len(name) {
			hint = fmt.Sprintf("did you mean lua.%s?", n)
		}
		errorf(pos, kw, hint, "lua %s %q is not registered%s", what, name, extra)
	}
	texts := func(pos diag.Pos, kw, text string) {
		fs, cs := sample.DynamicNames(text)
		for _, f := range fs {
			name := f[len(sample.DynamicPrefix):]
			if h == nil || !h.HasFetch(name) {
				bad(pos, kw, "fetch", name, names(h, "fetch"), "")
			}
		}
		for _, cv := range cs {
			name := cv[len(sample.DynamicPrefix):]
			if h == nil || !h.HasConverter(name) {
				bad(pos, kw, "converter", name, names(h, "converter"), "")
			}
		}
	}
	cond := func(kw string, cd *config.Condition) {
		if cd == nil {
			return
		}
		for _, and := range cd.Or {
			for _, t := range and {
				if t.Anon != nil {
					texts(t.Pos, kw, t.Anon.Criterion)
				}
			}
		}
	}
	rules := func(fam string, rs []*config.HTTPRule) {
		for _, r := range rs {
			kw := fam + " " + r.Action
			switch {
			case r.Action == "lua":
				if h == nil {
					bad(r.Pos, kw, "action", r.Name, nil, "")
				} else if reg, kind := h.HasAction(r.Name, fam == "http-response"); !reg {
					bad(r.Pos, kw, "action", r.Name, names(h, "action"), "")
				} else if !kind {
					errorf(r.Pos, kw, "list "+map[bool]string{true: "http-res", false: "http-req"}[fam == "http-response"]+" in core.register_action's actions", "lua action %q is not registered for %s", r.Name, fam)
				} else if n := h.ActionArgs(r.Name); len(r.Args) != n {
					// HAProxy takes exactly nargs words (measured with 2.6).
					errorf(r.Pos, kw, fmt.Sprintf("core.register_action declared %d argument(s)", n), "lua action %q expects %d argument(s), got %d", r.Name, n, len(r.Args))
				}
			case r.Action == "use-service" && len(r.Service) > 4 && r.Service[:4] == "lua.":
				name := r.Service[4:]
				if h == nil {
					bad(r.Pos, kw, "service", name, nil, "")
				} else if reg, isHTTP := h.HasService(name); !reg {
					bad(r.Pos, kw, "service", name, names(h, "service"), "")
				} else if !isHTTP {
					errorf(r.Pos, kw, "register it with mode \"http\"", "lua service %q is a tcp service; varde runs http services only", name)
				}
			}
			texts(r.Pos, kw, r.Value)
			if r.Redirect != nil {
				texts(r.Pos, kw, r.Redirect.Target)
			}
			cond(kw, r.Cond)
		}
	}
	all := append(append([]*config.Proxy{}, c.Defaults...), c.Proxies...)
	for _, p := range all {
		for _, a := range p.ACLs {
			texts(a.Pos, "acl", a.Criterion)
		}
		for _, u := range p.UseBackends {
			texts(u.Pos, "use_backend", u.Backend) // use_backend be_%[lua.x]
			cond("use_backend", u.Cond)
		}
		for _, c := range append(append([]*config.Condition{}, p.ForcePersist...), p.IgnorePersist...) {
			cond("force-persist", c)
		}
		rules("http-request", p.HTTPRequest)
		rules("http-response", p.HTTPResponse)
		if p.LogFormat != nil {
			texts(p.LogFormat.Pos, "log-format", p.LogFormat.Value)
		}
	}
	return ok
}

func names(h *Host, kind string) []string {
	if h == nil {
		return nil
	}
	return h.Names(kind)
}
