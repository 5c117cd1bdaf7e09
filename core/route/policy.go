package route

import "github.com/varde-lb/varde/core"

// PolicyChooser is the extension point through which a Lua/WASM policy
// picks a frontend's backend. The policy is asked first; when it declines,
// panics or names a backend that does not exist, the configuration's rules
// (Builtin) decide, and the fallback is counted by reason so a broken
// script shows on the stats page while traffic keeps flowing. The engine
// builds one for a frontend with a policy (proxy.FrontendConfig.Policy).
type PolicyChooser struct {
	Policy  core.BackendChooser
	Builtin core.BackendChooser
	// Known reports whether a backend exists; nil accepts any name.
	Known func(name string) bool

	fb core.Fallbacks
}

var _ core.BackendChooser = (*PolicyChooser)(nil)

// ChooseBackend implements core.BackendChooser.
func (p *PolicyChooser) ChooseBackend(req core.Request) (string, bool) {
	if b, ok := p.ask(req); ok {
		return b, true
	}
	if p.Builtin == nil {
		return "", false
	}
	return p.Builtin.ChooseBackend(req)
}

// ask notes the verdict on the request's view for the log
// (core.PolicyNoter): the backend, "declined" or "fallback:REASON".
func (p *PolicyChooser) ask(req core.Request) (b string, ok bool) {
	defer func() {
		if recover() != nil {
			p.fb.Panicked()
			core.NotePolicy(req, core.PolicyFallback("panic"))
			b, ok = "", false
		}
	}()
	if p.Policy == nil {
		return "", false
	}
	core.StartPolicyCall(req)
	b, ok = p.Policy.ChooseBackend(req)
	if !ok {
		p.fb.Declined()
		core.DeclinedPolicyCall(req)
		return "", false
	}
	if p.Known != nil && !p.Known(b) {
		p.fb.Rejected()
		core.NotePolicy(req, core.PolicyFallback("unknown"))
		return "", false
	}
	core.NotePolicy(req, b)
	return b, true
}

// Stats returns the fallback counts.
func (p *PolicyChooser) Stats() core.FallbackStats { return p.fb.Stats() }
