package proxyproto

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// AppendV1 appends a version 1 line naming src and dst. Without two valid
// addresses it is "PROXY UNKNOWN\r\n" (HAProxy's line for a health check).
// Mixed families are written as TCP6 with the IPv4 side mapped, as HAProxy.
func AppendV1(b []byte, src, dst netip.AddrPort) []byte {
	if !src.IsValid() || !dst.IsValid() {
		return append(b, "PROXY UNKNOWN\r\n"...)
	}
	sa, da := src.Addr().Unmap(), dst.Addr().Unmap()
	b = append(b, v1Prefix...)
	if sa.Is4() && da.Is4() {
		b = append(b, "TCP4 "...)
	} else {
		b = append(b, "TCP6 "...)
		sa, da = as6(sa), as6(da)
	}
	b = sa.AppendTo(b)
	b = append(b, ' ')
	b = da.AppendTo(b)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(src.Port()), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(dst.Port()), 10)
	return append(b, '\r', '\n')
}

func as6(a netip.Addr) netip.Addr {
	if a.Is4() {
		return netip.AddrFrom16(a.As16())
	}
	return a
}

// AppendV2 appends a version 2 header: the PROXY command over TCP naming
// src and dst, or the LOCAL command when either is missing (a health
// check). The TLVs are appended as given (see AppendTLV).
func AppendV2(b []byte, src, dst netip.AddrPort, tlvs []byte) []byte {
	b = append(b, v2Sig[:]...)
	start := len(b)
	if !src.IsValid() || !dst.IsValid() {
		b = append(b, 0x20, 0x00, 0, 0)
	} else {
		sa, da := src.Addr().Unmap(), dst.Addr().Unmap()
		if sa.Is4() && da.Is4() {
			b = append(b, 0x21, 0x11, 0, 0)
			s4, d4 := sa.As4(), da.As4()
			b = append(b, s4[:]...)
			b = append(b, d4[:]...)
		} else {
			b = append(b, 0x21, 0x21, 0, 0)
			s16, d16 := sa.As16(), da.As16()
			b = append(b, s16[:]...)
			b = append(b, d16[:]...)
		}
		b = binary.BigEndian.AppendUint16(b, src.Port())
		b = binary.BigEndian.AppendUint16(b, dst.Port())
	}
	b = append(b, tlvs...)
	binary.BigEndian.PutUint16(b[start+2:start+4], uint16(len(b)-start-4))
	return b
}

// AppendTLV appends one TLV (values longer than 65535 bytes are cut).
func AppendTLV(b []byte, typ byte, val []byte) []byte {
	val = val[:min(len(val), 0xffff)]
	b = append(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(val)))
	return append(b, val...)
}
