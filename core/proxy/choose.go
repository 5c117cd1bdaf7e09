package proxy

import (
	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/route"
)

// useBackends is the built-in core.BackendChooser of a Config written
// without a Chooser (tests, embedders): its `use_backend` rules in order,
// then default_backend, as route.Chooser does for a parsed haproxy.cfg.
type useBackends struct {
	rules []UseBackend
	def   string
}

func (u *useBackends) ChooseBackend(req core.Request) (string, bool) {
	for i := range u.rules {
		ub := &u.rules[i]
		if ub.Cond == nil || ub.Cond.Match(req) {
			return ub.Backend, true
		}
	}
	return u.def, u.def != ""
}

// newChooser builds the frontend's one backend chooser, used by HTTP and
// TCP alike: the configuration's rules (fc.Chooser, else UseBackends and
// DefaultBackend), behind fc.Policy when a policy is plugged in. The policy
// is asked first; when it declines, panics or names a backend that does
// not exist, the rules decide and the fallback is counted (Frontend.Policy).
func (e *Engine) newChooser(fc *FrontendConfig) (core.BackendChooser, *route.PolicyChooser) {
	builtin := fc.Chooser
	if builtin == nil {
		builtin = &useBackends{rules: fc.UseBackends, def: fc.DefaultBackend}
	}
	if fc.Policy == nil {
		return builtin, nil
	}
	pc := &route.PolicyChooser{Policy: fc.Policy, Builtin: builtin,
		Known: func(name string) bool { return e.byName[name] != nil }}
	return pc, pc
}

// chooseBackend returns the backend req goes to, nil when none (HAProxy
// answers 503 in HTTP and closes in TCP). req is the sanitised view.
func (f *Frontend) chooseBackend(req core.Request) *Backend {
	name, ok := f.chooser.ChooseBackend(req)
	if !ok {
		return nil
	}
	return f.e.byName[name]
}

// PolicyFallbacks counts how often the frontend's backend policy was
// overruled by the configuration's rules, by reason (zero without policy).
func (f *Frontend) PolicyFallbacks() core.FallbackStats {
	if f.policy == nil {
		return core.FallbackStats{}
	}
	return f.policy.Stats()
}
