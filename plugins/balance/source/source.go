// Package source implements `balance source`: the client's IP address is
// hashed so that a client keeps reaching the same server while the server
// list stays the same. The key is HAProxy's: the address's 32-bit words
// XORed together (an IPv4 address is its own key), mapped through the
// backend's hash-type lookup.
package source

import (
	"encoding/binary"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/plugins/balance/hashing"
)

func init() {
	core.RegisterAlgorithm(core.Algorithm{Name: "source", Usage: "balance source", Parse: Parse})
}

// Parse validates `balance source`, which takes no argument.
func Parse(spec core.BalanceSpec) (core.Build, error) {
	if err := core.NoArguments(spec); err != nil {
		return nil, err
	}
	o, err := hashing.OptionsFromSpec(spec)
	if err != nil {
		return nil, err
	}
	return func() core.Balancer { return hashing.New(Key, o) }, nil
}

// Key is the source address key: ctx.Src, or the request's client address
// when ctx.Src is not set. An IPv4 client seen on an IPv6 socket
// (::ffff:a.b.c.d) is hashed as HAProxy sees it there, as a 16-byte
// address. The hash function is not used, as in HAProxy.
func Key(ctx *core.PickContext, _ hashing.Func) (uint32, bool) {
	a := ctx.Src
	if !a.IsValid() && ctx.Req != nil {
		a = ctx.Req.Src().Addr()
	}
	if !a.IsValid() {
		return 0, false
	}
	if a.Is4() {
		b := a.As4()
		return binary.BigEndian.Uint32(b[:]), true
	}
	b := a.As16()
	var h uint32
	for i := 0; i < 16; i += 4 {
		h ^= binary.BigEndian.Uint32(b[i:])
	}
	return h, true
}
