package health

import (
	"fmt"
	"sort"
	"sync"
)

// ProbeType is a health probe as its plugin registers it: the plugin owns
// its name, the proxy option that selects it and the validation of its
// settings, so a new probe is a folder under plugins/check plus its line
// in plugins/check/all.
type ProbeType struct {
	// Name is what ProbeSpec.Type names: tcp, http, ssl-hello, agent.
	Name string
	// Option is the proxy option selecting the probe (`option httpchk`
	// selects http); "" for probes selected otherwise (tcp is the default,
	// agent comes with `agent-check`).
	Option string
	// Parse validates spec and returns the probe's factory. It runs when
	// the configuration is checked (ParseProbe) and again at start, so a
	// setting the probe refuses is refused by `varde check`.
	Parse func(spec ProbeSpec) (BuildProbe, error)
}

// BuildProbe makes the probe for one server from settings Parse accepted;
// it cannot fail.
type BuildProbe func() Probe

// ProbeFactory builds a probe from its spec.
type ProbeFactory func(spec ProbeSpec) (Probe, error)

var (
	probesMu sync.RWMutex
	probes   = map[string]ProbeType{}
)

// RegisterProbeType makes a probe available; plugins call it from init().
// A name registered twice panics at start-up.
func RegisterProbeType(t ProbeType) {
	if t.Name == "" || t.Parse == nil {
		panic("health: probe registered without a name or a Parse function")
	}
	probesMu.Lock()
	defer probesMu.Unlock()
	if _, dup := probes[t.Name]; dup {
		panic("health: probe registered twice: " + t.Name)
	}
	probes[t.Name] = t
}

// RegisterProbe registers a probe whose factory is its validation: Parse
// calls f once to report its error while the configuration is checked.
func RegisterProbe(name string, f ProbeFactory) {
	RegisterProbeType(ProbeType{Name: name, Parse: func(spec ProbeSpec) (BuildProbe, error) {
		if _, err := f(spec); err != nil {
			return nil, err
		}
		return func() Probe {
			p, err := f(spec)
			if err != nil {
				return nil // NewProbe turns this into an error
			}
			return p
		}, nil
	}})
}

// ParseProbe validates spec with its probe's Parse.
func ParseProbe(spec ProbeSpec) (BuildProbe, error) {
	probesMu.RLock()
	t, ok := probes[spec.Type]
	probesMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("health: unknown check type %q (known: %v)", spec.Type, ProbeNames())
	}
	return t.Parse(spec)
}

// NewProbe builds the registered probe named by spec.Type.
func NewProbe(spec ProbeSpec) (Probe, error) {
	build, err := ParseProbe(spec)
	if err != nil {
		return nil, err
	}
	p := build()
	if p == nil {
		return nil, fmt.Errorf("health: %s probe: the factory failed after accepting its settings", spec.Type)
	}
	return p, nil
}

// ProbeForOption returns the probe a proxy option selects (`httpchk`
// selects http), so that the option-to-probe mapping belongs to probes.
func ProbeForOption(option string) (string, bool) {
	probesMu.RLock()
	defer probesMu.RUnlock()
	for _, t := range probes {
		if t.Option != "" && t.Option == option {
			return t.Name, true
		}
	}
	return "", false
}

// ProbeNames lists registered probes, sorted.
func ProbeNames() []string {
	probesMu.RLock()
	defer probesMu.RUnlock()
	out := make([]string, 0, len(probes))
	for n := range probes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
