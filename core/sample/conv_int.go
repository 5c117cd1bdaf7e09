package sample

import (
	"fmt"
	"hash/crc32"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/varde-lb/varde/plugins/balance/hashing"
)

// Hash, arithmetic, boolean and address converters (§7.3.1).

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func init() {
	// The 32-bit hashes are the balancers' own functions, so that a
	// converter and `hash-type` agree as HAProxy promises.
	for _, h := range []struct {
		name string
		fn   func([]byte) uint32
	}{{"djb2", hashing.DJB2}, {"sdbm", hashing.SDBM}, {"wt6", hashing.WT6}, {"crc32", hashing.CRC32},
		{"crc32c", func(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }}} {
		fn := h.fn
		RegisterConverter(&Converter{Name: h.name, MaxArgs: 1, In: TypeBin, Out: TypeInt, Compile: compileIntArgs,
			Doc: "hashes the input into an unsigned 32-bit integer; AVALANCHE 1 mixes the result as hash-type avalanche",
			Eval: func(a *Args, v *Value, s []byte) ([]byte, bool) {
				x := fn(v.Str)
				if a.Int[0] == 1 {
					x = hashing.FullHash(x)
				}
				v.SetInt(int64(x))
				return s, true
			}})
	}
	RegisterConverter(&Converter{Name: "xxh64", MaxArgs: 1, In: TypeBin, Out: TypeInt, Compile: compileIntArgs,
		Doc: "XXH64 of the input with SEED (default 0), as a signed 64-bit integer",
		Eval: func(a *Args, v *Value, s []byte) ([]byte, bool) {
			var d xxhash.Digest
			d.ResetWithSeed(uint64(a.Int[0]))
			d.Write(v.Str)
			v.SetInt(int64(d.Sum64()))
			return s, true
		}})
	registerArith()
	RegisterConverter(&Converter{Name: "ipmask", MinArgs: 1, MaxArgs: 2, In: TypeAddr, Out: TypeAddr, Compile: compileIPMask,
		Doc: "masks an address to MASK4 bits (CIDR or dotted) or MASK6 bits; without MASK6 an IPv6 address fails",
		Eval: func(a *Args, v *Value, s []byte) ([]byte, bool) {
			bits := a.Int[0]
			if !v.Addr.Is4() {
				if a.N < 2 {
					return s, false
				}
				bits = a.Int[1]
			}
			p, err := v.Addr.Prefix(int(bits))
			v.SetAddr(p.Addr())
			return s, err == nil
		}})
	RegisterConverter(&Converter{Name: "iif", MinArgs: 2, MaxArgs: 2, In: TypeBool, Out: TypeStr,
		Doc: "TRUE's string when the input is true, else FALSE's",
		Eval: func(a *Args, v *Value, s []byte) ([]byte, bool) {
			if v.Int != 0 {
				v.SetStr(stringBytes(a.Str[0]))
			} else {
				v.SetStr(stringBytes(a.Str[1]))
			}
			return s, true
		}})
}

func registerArith() {
	binop := func(name, doc string, fn func(x, y int64) int64) {
		RegisterConverter(&Converter{Name: name, MinArgs: 1, MaxArgs: 1, In: TypeInt, Out: TypeInt, Compile: compileNumArg, Doc: doc,
			Eval: func(a *Args, v *Value, s []byte) ([]byte, bool) { v.SetInt(fn(v.Int, a.Int[0])); return s, true }})
	}
	binop("add", "adds VALUE (saturating)", satAdd)
	binop("sub", "subtracts VALUE (saturating)", func(x, y int64) int64 {
		if y == math.MinInt64 {
			return satAdd(satAdd(x, math.MaxInt64), 1)
		}
		return satAdd(x, -y)
	})
	binop("mul", "multiplies by VALUE; saturates instead of wrapping", satMul)
	binop("div", "divides by VALUE; the largest integer when VALUE is 0", func(x, y int64) int64 {
		if y == 0 {
			return math.MaxInt64
		}
		if x == math.MinInt64 && y == -1 {
			return math.MaxInt64
		}
		return x / y
	})
	binop("mod", "the remainder of the division by VALUE; 0 when VALUE is 0", func(x, y int64) int64 {
		if y == 0 || y == -1 {
			return 0
		}
		return x % y
	})
	binop("and", "bitwise AND with VALUE", func(x, y int64) int64 { return x & y })
	binop("or", "bitwise OR with VALUE", func(x, y int64) int64 { return x | y })
	binop("xor", "bitwise XOR with VALUE", func(x, y int64) int64 { return x ^ y })
	unop := func(name, doc string, out Type, fn func(x int64) int64) {
		RegisterConverter(&Converter{Name: name, In: TypeInt, Out: out, Doc: doc,
			Eval: func(_ *Args, v *Value, s []byte) ([]byte, bool) {
				r := fn(v.Int)
				if out == TypeBool {
					v.SetBool(r != 0)
				} else {
					v.SetInt(r)
				}
				return s, true
			}})
	}
	unop("neg", "the opposite value", TypeInt, func(x int64) int64 { return -x })
	unop("cpl", "flips every bit", TypeInt, func(x int64) int64 { return ^x })
	unop("bool", "true when non-zero", TypeBool, func(x int64) int64 { return x })
	unop("not", "true when zero", TypeBool, func(x int64) int64 { return b2i(x == 0) })
	unop("odd", "true when odd", TypeBool, func(x int64) int64 { return x & 1 })
	unop("even", "true when even", TypeBool, func(x int64) int64 { return b2i(x&1 == 0) })
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func satAdd(x, y int64) int64 {
	s := x + y
	if (x > 0 && y > 0 && s < 0) || (x < 0 && y < 0 && s >= 0) {
		if x > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}

func satMul(x, y int64) int64 {
	if x == 0 || y == 0 {
		return 0
	}
	p := x * y
	if p/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
		if (x > 0) == (y > 0) {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return p
}

// compileNumArg accepts a number; HAProxy also takes a variable name here,
// which varde does not support yet.
func compileNumArg(args []string, a *Args) error {
	n, err := strconv.ParseInt(strings.TrimSpace(args[0]), 10, 64)
	if err != nil {
		return fmt.Errorf("%q: want an integer (variables are not supported yet)", args[0])
	}
	a.Int[0] = n
	return nil
}

func compileIPMask(args []string, a *Args) error {
	m4, err := maskBits(strings.TrimSpace(args[0]), 32)
	if err != nil {
		return err
	}
	a.Int[0] = int64(m4)
	if len(args) > 1 {
		m6, err := maskBits(strings.TrimSpace(args[1]), 128)
		if err != nil {
			return err
		}
		a.Int[1] = int64(m6)
	}
	return nil
}

// maskBits reads a prefix length or a contiguous mask in address form
// (255.255.255.0, ffff:ffff::).
func maskBits(s string, maxBits int) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= maxBits {
		return n, nil
	}
	if a, err := netip.ParseAddr(s); err == nil && a.BitLen() == maxBits {
		b := a.AsSlice()
		n := 0
		for n < maxBits && b[n/8]&(0x80>>(n%8)) != 0 {
			n++
		}
		if p, _ := a.Prefix(n); p.Addr() == a {
			return n, nil
		}
	}
	return 0, fmt.Errorf("mask %q: want a prefix length 0..%d or a contiguous mask", s, maxBits)
}
