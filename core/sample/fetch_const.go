package sample

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
)

// Constant fetches (§7.3.2): str(), int(), bool(), ipv4(), ipv6(), bin().
// The value is parsed once; evaluation returns it.

func init() {
	constant := func(name, doc string, parse func(s string, v *Value) error) {
		RegisterFetch(&Fetch{Name: name, MinArgs: map[bool]int{true: 0, false: 1}[name == "str"], MaxArgs: 1, Where: AtAny, Doc: doc,
			Out: map[string]Type{"str": TypeStr, "int": TypeInt, "bool": TypeBool, "ipv4": TypeAddr, "ipv6": TypeAddr, "bin": TypeBin}[name],
			Compile: func(args []string, a *Args) error {
				v := &Value{}
				if err := parse(a.Str[0], v); err != nil {
					return err
				}
				a.P = v
				return nil
			},
			Eval: func(_ *Ctx, a *Args, out *Value) bool { *out = *a.P.(*Value); return true }})
	}
	constant("str", "the constant string", func(s string, v *Value) error { v.SetStr([]byte(s)); return nil })
	constant("int", "the constant integer", func(s string, v *Value) error {
		n, err := strconv.ParseInt(s, 10, 64)
		v.SetInt(n)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		return nil
	})
	constant("bool", "the constant boolean (0 or 1)", func(s string, v *Value) error {
		n, err := strconv.ParseInt(s, 10, 64)
		v.SetBool(n != 0)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		return nil
	})
	ip := func(want int) func(s string, v *Value) error {
		return func(s string, v *Value) error {
			a, err := netip.ParseAddr(s)
			if err != nil || a.BitLen() != want {
				return fmt.Errorf("%q is not an IPv%d address", s, map[int]int{32: 4, 128: 6}[want])
			}
			*v = Value{Type: TypeAddr, Addr: a}
			return nil
		}
	}
	constant("ipv4", "the constant IPv4 address", ip(32))
	constant("ipv6", "the constant IPv6 address", ip(128))
	constant("bin", "the constant binary data, written in hex", func(s string, v *Value) error {
		b, err := hex.DecodeString(s)
		*v = Value{Type: TypeBin, Str: b}
		if err != nil {
			return fmt.Errorf("%q is not hex data", s)
		}
		return nil
	})
}
