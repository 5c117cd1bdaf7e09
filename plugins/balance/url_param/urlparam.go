// Package urlparam implements `balance url_param NAME`: the value of a
// query-string parameter (a user or session id) is hashed so that the
// same value reaches the same server. Requests without the parameter fall
// back to round robin, as in HAProxy.
//
// HAProxy's `check_post` (look for the parameter in a POST body) is refused
// until built: varde never buffers request bodies before choosing a
// server, so POST requests would silently go round robin.
package urlparam

import (
	"bytes"
	"strconv"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/plugins/balance/hashing"
)

func init() {
	core.RegisterAlgorithm(core.Algorithm{Name: "url_param", Usage: Usage, HTTP: true, Parse: Parse})
}

// Usage is the accepted form of the balance line.
const Usage = "balance url_param NAME [check_post [MAX_WAIT]]"

// Parse validates `balance url_param NAME [check_post [MAX_WAIT]]` as
// HAProxy 2.6 does: a name is required, the only modifier is check_post,
// and its old MAX_WAIT number is accepted and ignored.
func Parse(spec core.BalanceSpec) (core.Build, error) {
	if spec.Param != "" {
		return nil, core.ArgErrorf(-1, Usage, "url_param takes its name as an argument, not in parentheses")
	}
	if len(spec.Args) == 0 || spec.Args[0] == "" {
		return nil, core.ArgErrorf(-1, "balance url_param userid", "url_param requires an URL parameter name")
	}
	if err := parseModifiers(spec.Args[1:]); err != nil {
		return nil, err
	}
	o, err := hashing.OptionsFromSpec(spec)
	if err != nil {
		return nil, err
	}
	k := Keyer{Name: []byte(spec.Args[0])}
	return func() core.Balancer { return hashing.New(k.Key, o) }, nil
}

// parseModifiers checks what follows the name; indexes in errors count the
// name, as in BalanceSpec.Args.
func parseModifiers(mods []string) error {
	if len(mods) == 0 {
		return nil
	}
	if mods[0] != "check_post" {
		return core.ArgErrorf(1, Usage, "url_param only accepts 'check_post' modifier (got %q)", mods[0])
	}
	if len(mods) > 1 {
		if n, err := strconv.Atoi(mods[1]); err != nil || n < 0 {
			return core.ArgErrorf(2, Usage, "check_post's MAX_WAIT must be a number (got %q)", mods[1])
		}
	}
	if len(mods) > 2 {
		return core.ArgErrorf(3, Usage, "unexpected %q after url_param", mods[2])
	}
	return core.ArgErrorf(1, "remove check_post; POST requests whose query lacks the parameter are then balanced round robin, knowingly",
		"check_post is not built yet: the parameter would not be looked for in POST bodies")
}

// Keyer finds the parameter Name.
type Keyer struct{ Name []byte }

// Key implements hashing.KeyFunc.
func (k Keyer) Key(ctx *core.PickContext, fn hashing.Func) (uint32, bool) {
	if ctx.Req == nil {
		return 0, false
	}
	v, ok := k.Value(ctx.Req.URI())
	if !ok {
		return 0, false
	}
	return fn(v), true
}

// Value returns the first value of the parameter in the request target
// (HAProxy's get_server_ph: name=value pairs separated by '&' after '?').
func (k Keyer) Value(uri []byte) ([]byte, bool) {
	q := bytes.IndexByte(uri, '?')
	if q < 0 {
		return nil, false
	}
	params := uri[q+1:]
	n := len(k.Name)
	for len(params) > n {
		if params[n] == '=' && string(params[:n]) == string(k.Name) {
			v := params[n+1:]
			if e := bytes.IndexByte(v, '&'); e >= 0 {
				v = v[:e]
			}
			return v, true
		}
		e := bytes.IndexByte(params, '&')
		if e < 0 {
			return nil, false
		}
		params = params[e+1:]
	}
	return nil, false
}
