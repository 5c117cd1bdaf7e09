// Package uri implements `balance uri [len N] [depth N] [whole] [path-only]`:
// the request target is hashed so that the same resource goes to the same
// server (cache affinity). As in HAProxy, hashing stops at '?' unless
// `whole`, after N characters with `len`, and at the (N+1)th slash with
// `depth`; `path-only` drops an absolute URI's scheme and authority.
package uri

import (
	"bytes"
	"strconv"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/plugins/balance/hashing"
)

func init() {
	core.RegisterAlgorithm(core.Algorithm{Name: "uri", Usage: Usage, HTTP: true, Parse: Parse})
}

// Usage is the accepted form of the balance line.
const Usage = "balance uri [len N] [depth N] [whole] [path-only]"

// Parse validates a `balance uri` line and the hash settings.
func Parse(spec core.BalanceSpec) (core.Build, error) {
	if spec.Param != "" {
		return nil, core.ArgErrorf(-1, Usage, "uri takes no parameter in parentheses (got %q)", spec.Param)
	}
	k, err := ParseArgs(spec.Args)
	if err != nil {
		return nil, err
	}
	o, err := hashing.OptionsFromSpec(spec)
	if err != nil {
		return nil, err
	}
	return func() core.Balancer { return hashing.New(k.Key, o) }, nil
}

// Keyer holds the uri options.
type Keyer struct {
	Len      int  // hash at most Len characters (0: no limit)
	Depth    int  // stop at the Depth+1-th slash (0: no limit)
	Whole    bool // include the query string
	PathOnly bool // drop scheme://authority of absolute URIs
}

// ParseArgs reads `len N`, `depth N`, `whole` and `path-only` as HAProxy
// 2.6 does: N is a positive integer (`len 0` is refused), words may repeat
// and come in any order. Errors are *core.ArgError.
func ParseArgs(args []string) (Keyer, error) {
	var k Keyer
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "whole":
			k.Whole = true
		case "path-only":
			k.PathOnly = true
		case "len", "depth":
			if i+1 >= len(args) {
				return k, core.ArgErrorf(i, "balance uri "+a+" 3", "'%s' expects a positive integer", a)
			}
			n, err := strconv.Atoi(args[i+1])
			if err != nil || n <= 0 {
				return k, core.ArgErrorf(i+1, "balance uri "+a+" 3", "'%s' expects a positive integer (got %q)", a, args[i+1])
			}
			i++
			if a == "len" {
				k.Len = n
			} else {
				k.Depth = n
			}
		default:
			return k, core.ArgErrorf(i, Usage, "uri only accepts 'len', 'depth', 'path-only' and 'whole' (got %q)", a)
		}
	}
	return k, nil
}

// Key implements hashing.KeyFunc.
func (k Keyer) Key(ctx *core.PickContext, fn hashing.Func) (uint32, bool) {
	if ctx.Req == nil {
		return 0, false
	}
	return fn(k.Extract(ctx.Req.URI())), true
}

// Extract returns the part of a request target that is hashed.
func (k Keyer) Extract(u []byte) []byte {
	if k.PathOnly {
		u = pathOf(u)
	}
	if k.Len > 0 && len(u) > k.Len {
		u = u[:k.Len]
	}
	slashes := 0
	for i, c := range u {
		switch {
		case c == '/':
			slashes++
			if k.Depth > 0 && slashes == k.Depth+1 {
				return u[:i]
			}
		case c == '?' && !k.Whole:
			return u[:i]
		}
	}
	return u
}

// pathOf skips "scheme://authority" of an absolute URI, like HAProxy's
// http_get_path; origin-form targets are returned unchanged.
func pathOf(u []byte) []byte {
	if len(u) == 0 || u[0] == '/' {
		return u
	}
	i := bytes.Index(u, []byte("://"))
	if i < 0 {
		return u
	}
	rest := u[i+3:]
	if j := bytes.IndexByte(rest, '/'); j >= 0 {
		return rest[j:]
	}
	return rest[len(rest):]
}
