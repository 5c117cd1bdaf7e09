// Package urlparam implements `balance url_param NAME`: the value of a
// query-string parameter (a user or session id) is hashed so that the
// same value reaches the same server. Requests without the parameter fall
// back to round robin, as in HAProxy.
//
// HAProxy's `check_post` (look for the parameter in a POST body) is
// accepted but not enforced: varde never buffers request bodies before
// choosing a server, so POST requests without the parameter in the query
// go round robin.
package urlparam

import (
	"bytes"
	"fmt"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/plugins/balance/hashing"
)

func init() {
	core.RegisterBalancer("url_param", func(spec core.BalanceSpec) (core.Balancer, error) {
		if len(spec.Args) == 0 || spec.Args[0] == "" {
			return nil, fmt.Errorf("balance/url_param: missing parameter name (hint: balance url_param userid)")
		}
		for i := 1; i < len(spec.Args); i++ {
			switch spec.Args[i] {
			case "check_post":
				// Optional max length follows; body lookup is not done.
				if i+1 < len(spec.Args) {
					i++
				}
			default:
				return nil, fmt.Errorf("balance/url_param: unknown argument %q (hint: url_param NAME [check_post])", spec.Args[i])
			}
		}
		o, err := hashing.OptionsFromSpec(spec)
		if err != nil {
			return nil, fmt.Errorf("balance/url_param: %w", err)
		}
		return hashing.New(Keyer{Name: []byte(spec.Args[0])}.Key, o), nil
	})
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
