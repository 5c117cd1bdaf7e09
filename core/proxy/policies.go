package proxy

import (
	"fmt"
	"sort"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
)

// Policies are compiled at preparation, once per section (a listen is both
// a frontend and a backend), through core.CompilePolicy: this package never
// imports an engine. The engine keeps them (Engine.Policies) for the stats
// page and closes them with its generation (enginePart).

// compiledPolicy is one `policy` line, compiled.
type compiledPolicy struct {
	line *config.PolicyLine
	pol  core.Policy
}

// LoadedPolicy is a compiled `policy` line with where it comes from, for
// the admin socket and the stats page.
type LoadedPolicy struct {
	File   string // as written on the policy line
	Path   string // resolved
	Proxy  string
	Policy core.Policy
}

// policySet compiles each section's policies once and keeps every one
// compiled, so that a failed preparation can close them all.
type policySet struct {
	bySection map[*config.Proxy][]compiledPolicy
	errs      map[*config.Proxy]bool
	all       []LoadedPolicy
}

func newPolicySet() *policySet {
	return &policySet{bySection: map[*config.Proxy][]compiledPolicy{}, errs: map[*config.Proxy]bool{}}
}

// closeAll closes every compiled policy (a refused generation).
func (ps *policySet) closeAll() {
	for _, p := range ps.all {
		p.Policy.Close()
	}
	ps.all = nil
}

// of compiles p's policies (once); known are the backends of p's mode a
// choose_backend may name. Errors are added to d at the policy line.
func (ps *policySet) of(p *config.Proxy, known []string, d *diag.List) ([]compiledPolicy, bool) {
	if cp, done := ps.bySection[p]; done {
		return cp, !ps.errs[p]
	}
	var out []compiledPolicy
	ok := true
	for _, pl := range p.Policies {
		pol, err := core.CompilePolicy(policySpec(p, pl, known))
		if err != nil {
			d.Errorf(pl.Pos, "policy", "fix the script; `varde policy test FILE VECTORS` runs it on sample requests", "%v", err)
			ok = false
			continue
		}
		ps.all = append(ps.all, LoadedPolicy{File: pl.File, Path: pl.Path, Proxy: p.Name, Policy: pol})
		if err := checkEntries(p, pl, pol, out); err != nil {
			d.Errorf(pl.Pos, "policy", "", "%v", err)
			ok = false
			continue
		}
		out = append(out, compiledPolicy{line: pl, pol: pol})
	}
	ps.bySection[p], ps.errs[p] = out, !ok
	return out, ok
}

func policySpec(p *config.Proxy, pl *config.PolicyLine, known []string) core.PolicySpec {
	spec := core.PolicySpec{Path: pl.Path, Timeout: pl.Timeout, Fallback: pl.Fallback, Proxy: p.Name,
		Frontend: p.IsFrontend(), Backend: p.IsBackend()}
	if spec.Frontend {
		spec.Backends = known
	}
	for _, s := range p.Servers {
		spec.Servers = append(spec.Servers, s.Name)
	}
	return spec
}

// checkEntries refuses an entry point the section cannot use and two
// policies of a section defining the same entry point.
func checkEntries(p *config.Proxy, pl *config.PolicyLine, pol core.Policy, before []compiledPolicy) error {
	for _, e := range pol.Entries() {
		switch {
		case e == "choose_backend" && !p.IsFrontend():
			return fmt.Errorf("%s defines choose_backend, which only a frontend or listen asks; %s is a backend", pl.File, p.Name)
		case e != "choose_backend" && !p.IsBackend():
			return fmt.Errorf("%s defines %s, which only a backend or listen asks; %s is a frontend", pl.File, e, p.Name)
		}
		for _, o := range before {
			for _, oe := range o.pol.Entries() {
				if oe == e {
					return fmt.Errorf("%s and %s both define %s; a section may have several policies only when their entry points differ", o.line.File, pl.File, e)
				}
			}
		}
	}
	if pl.Fallback != "" && pol.ServerChooser() == nil {
		return fmt.Errorf("%s has `fallback %s` but defines no choose_server (the fallback is the algorithm used when choose_server gives no usable verdict)", pl.File, pl.Fallback)
	}
	return nil
}

// applyFrontend plugs a frontend's policies into its configuration.
func applyFrontend(fc *FrontendConfig, cps []compiledPolicy) {
	for _, cp := range cps {
		if bc := cp.pol.BackendChooser(); bc != nil {
			fc.Policy = bc
		}
	}
}

// applyBackend plugs a backend's policies into its configuration; a
// `fallback ALGO` replaces the backend's algorithm, which is what decides
// whenever choose_server gives no usable verdict.
func applyBackend(bc *BackendConfig, cps []compiledPolicy) {
	for _, cp := range cps {
		pol := cp.pol
		if sc := pol.ServerChooser(); sc != nil {
			bc.ServerPolicy = sc
			if cp.line.Fallback != "" {
				bc.Balance = core.BalanceSpec{Algorithm: cp.line.Fallback}
			}
		}
		if st := pol.Stickiness(); st != nil {
			bc.Sticky = st
		}
		if hj := pol.HealthJudge(); hj != nil {
			bc.HealthJudge = hj
		}
	}
}

// knownOfMode lists the backends of mode m, sorted.
func knownOfMode(known map[string]Mode, m Mode) []string {
	out := make([]string, 0, len(known))
	for n, km := range known {
		if km == m {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Policies lists the compiled policies of the engine's configuration.
func (e *Engine) Policies() []LoadedPolicy { return e.cfg.Policies }

// ClosePolicies closes the policies of the engine's configuration; the
// generation calls it when the engine is dropped or stopped.
func (e *Engine) ClosePolicies() {
	for _, p := range e.cfg.Policies {
		p.Policy.Close()
	}
}

// HealthJudge is the backend's health policy, nil when none.
func (b *Backend) HealthJudge() core.HealthJudge { return b.cfg.HealthJudge }
