package sample

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strconv"
)

// Type is a sample's type, as HAProxy's (bool, sint, ipv4/ipv6, str, bin).
type Type uint8

const (
	TypeAny Type = iota // converter input: whatever comes
	TypeBool
	TypeInt
	TypeAddr // IPv4 or IPv6 address
	TypeStr
	TypeBin
)

var typeNames = [...]string{"any", "boolean", "integer", "ip", "string", "binary"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Value is one sample. Str may alias request buffers or the caller's scratch
// buffer: it is valid until either changes.
type Value struct {
	Type Type
	Int  int64 // TypeBool (0 or 1), TypeInt
	Addr netip.Addr
	Str  []byte // TypeStr, TypeBin
}

// SetStr makes v a string sample.
func (v *Value) SetStr(b []byte) { *v = Value{Type: TypeStr, Str: b} }

// SetInt makes v an integer sample.
func (v *Value) SetInt(n int64) { *v = Value{Type: TypeInt, Int: n} }

// SetBool makes v a boolean sample.
func (v *Value) SetBool(b bool) {
	*v = Value{Type: TypeBool}
	if b {
		v.Int = 1
	}
}

// SetAddr makes v an address sample.
func (v *Value) SetAddr(a netip.Addr) { *v = Value{Type: TypeAddr, Addr: a.Unmap()} }

// castable reports whether HAProxy converts a sample of type from to type to
// (its sample_casts table, restricted to varde's types): binary data has no
// integer, boolean or address reading.
func castable(from, to Type) bool {
	if to == TypeAny || from == to {
		return true
	}
	return !(from == TypeBin && (to == TypeInt || to == TypeBool || to == TypeAddr))
}

// Cast converts v to type to in place, appending any new bytes to scratch.
// ok is false when the value cannot be converted (a string that is not a
// number or an address): the expression then yields no sample.
func Cast(v *Value, to Type, scratch []byte) ([]byte, bool) {
	if to == TypeAny || v.Type == to {
		return scratch, true
	}
	switch to {
	case TypeStr:
		if v.Type == TypeBin {
			v.Type = TypeStr
			return scratch, true
		}
		start := len(scratch)
		scratch = AppendString(scratch, v)
		v.SetStr(scratch[start:])
		return scratch, true
	case TypeBin:
		return castBin(v, scratch)
	case TypeInt, TypeBool:
		n, ok := v.Int, true
		switch v.Type {
		case TypeStr:
			n, ok = parseInt(v.Str)
		case TypeAddr:
			ok = v.Addr.Is4()
			if ok {
				b := v.Addr.As4()
				n = int64(binary.BigEndian.Uint32(b[:]))
			}
		case TypeBin:
			ok = false
		}
		if !ok {
			return scratch, false
		}
		if to == TypeBool {
			v.SetBool(n != 0)
		} else {
			v.SetInt(n)
		}
		return scratch, true
	case TypeAddr:
		return scratch, castAddr(v)
	}
	return scratch, false
}

func castBin(v *Value, scratch []byte) ([]byte, bool) {
	start := len(scratch)
	switch v.Type {
	case TypeStr:
		v.Type = TypeBin
		return scratch, true
	case TypeInt, TypeBool:
		scratch = binary.BigEndian.AppendUint64(scratch, uint64(v.Int))
	case TypeAddr:
		scratch = append(scratch, v.Addr.AsSlice()...)
	}
	*v = Value{Type: TypeBin, Str: scratch[start:]}
	return scratch, true
}

func castAddr(v *Value) bool {
	switch v.Type {
	case TypeStr:
		// Parsed in place (no copy on the request path); a zone would keep
		// a reference to the buffer, and HAProxy takes none, so refuse it.
		if bytes.IndexByte(v.Str, '%') >= 0 {
			return false
		}
		a, err := netip.ParseAddr(bytesString(v.Str))
		if err != nil {
			return false
		}
		v.SetAddr(a)
	case TypeInt:
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(v.Int))
		v.SetAddr(netip.AddrFrom4(b))
	default:
		return false
	}
	return true
}

// parseInt reads an optional sign and decimal digits, stopping at the first
// other byte, as HAProxy's string-to-integer cast does; no digit at all is
// a failure.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '0' || b[0] > '9' {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// AppendString appends v's text form: decimal integers, "1"/"0" for
// booleans, the usual text of an address, the bytes of a string or binary.
func AppendString(dst []byte, v *Value) []byte {
	switch v.Type {
	case TypeBool, TypeInt:
		return strconv.AppendInt(dst, v.Int, 10)
	case TypeAddr:
		if !v.Addr.IsValid() {
			return dst
		}
		return v.Addr.AppendTo(dst)
	}
	return append(dst, v.Str...)
}
