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
	constant := func(name string, out Type, doc string, parse func(s string, v *Value) error) {
		minArgs := 1
		if out == TypeStr {
			minArgs = 0 // str() is the empty string
		}
		RegisterFetch(&Fetch{Name: name, MinArgs: minArgs, MaxArgs: 1, Where: AtAny, Doc: doc, Out: out,
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
	constant("str", TypeStr, "the constant string", func(s string, v *Value) error { v.SetStr([]byte(s)); return nil })
	constant("int", TypeInt, "the constant integer", func(s string, v *Value) error {
		n, err := strconv.ParseInt(s, 10, 64)
		v.SetInt(n)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		return nil
	})
	constant("bool", TypeBool, "the constant boolean (0 or 1)", func(s string, v *Value) error {
		n, err := strconv.ParseInt(s, 10, 64)
		v.SetBool(n != 0)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		return nil
	})
	ip := func(want int) func(s string, v *Value) error {
		version := 4
		if want == 128 {
			version = 6
		}
		return func(s string, v *Value) error {
			a, err := netip.ParseAddr(s)
			if err != nil || a.BitLen() != want {
				return fmt.Errorf("%q is not an IPv%d address", s, version)
			}
			*v = Value{Type: TypeAddr, Addr: a}
			return nil
		}
	}
	constant("ipv4", TypeAddr, "the constant IPv4 address", ip(32))
	constant("ipv6", TypeAddr, "the constant IPv6 address", ip(128))
	constant("bin", TypeBin, "the constant binary data, written in hex", func(s string, v *Value) error {
		b, err := hex.DecodeString(s)
		*v = Value{Type: TypeBin, Str: b}
		if err != nil {
			return fmt.Errorf("%q is not hex data", s)
		}
		return nil
	})
}
