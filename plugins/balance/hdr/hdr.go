// Package hdr implements `balance hdr(NAME) [use_domain_only]`: the first
// value of a request header is hashed. With use_domain_only (meant for
// Host), only the registered domain's label is hashed: "www.example.com"
// and "example.com" both hash "example". A missing or empty header falls
// back to round robin, as in HAProxy.
package hdr

import (
	"bytes"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/plugins/balance/hashing"
)

func init() {
	core.RegisterAlgorithm(core.Algorithm{Name: "hdr", Usage: Usage, HTTP: true, Parse: Parse})
}

// Usage is the accepted form of the balance line.
const Usage = "balance hdr(NAME) [use_domain_only]"

// Parse validates `balance hdr(NAME) [use_domain_only]`: the header name in
// parentheses is required, the only modifier is use_domain_only.
func Parse(spec core.BalanceSpec) (core.Build, error) {
	if spec.Param == "" {
		return nil, core.ArgErrorf(-1, "balance hdr(Host)", "hdr requires an http header field name")
	}
	k := Keyer{Name: spec.Param}
	for i, a := range spec.Args {
		if a != "use_domain_only" {
			return nil, core.ArgErrorf(i, Usage, "hdr only accepts 'use_domain_only' modifier (got %q)", a)
		}
		if i > 0 {
			return nil, core.ArgErrorf(i, Usage, "unexpected %q after use_domain_only", a)
		}
		k.DomainOnly = true
	}
	o, err := hashing.OptionsFromSpec(spec)
	if err != nil {
		return nil, err
	}
	return func() core.Balancer { return hashing.New(k.Key, o) }, nil
}

// Keyer extracts the header value.
type Keyer struct {
	Name       string
	DomainOnly bool
}

// Key implements hashing.KeyFunc.
func (k Keyer) Key(ctx *core.PickContext, fn hashing.Func) (uint32, bool) {
	if ctx.Req == nil {
		return 0, false
	}
	v, ok := ctx.Req.Header(k.Name)
	if !ok {
		return 0, false
	}
	v = k.Extract(v)
	if len(v) == 0 {
		return 0, false
	}
	return fn(v), true
}

// Extract returns the hashed part of a header line's value: its first
// comma-separated value, trimmed, reduced to the domain label with
// use_domain_only.
func (k Keyer) Extract(v []byte) []byte {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	v = bytes.TrimSpace(v)
	if k.DomainOnly && len(v) > 0 {
		v = domain(v)
	}
	return v
}

// domain keeps the label before the last dot (HAProxy's use_domain_only:
// scanning backwards, the hash starts after the second-to-last dot and
// ends at the last one; a value without dots is kept whole).
func domain(v []byte) []byte {
	last := bytes.LastIndexByte(v[1:], '.')
	if last < 0 {
		return v
	}
	last++ // index in v; HAProxy never treats the first byte as the last dot
	start := bytes.LastIndexByte(v[:last], '.') + 1
	return v[start:last]
}
