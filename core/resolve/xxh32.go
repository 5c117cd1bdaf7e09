package resolve

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// HAProxy keeps a name's answer records in a tree ordered by XXH32 of the
// address bytes, seeded with the record type (src/resolvers.c): servers
// take addresses in that order. varde orders its records the same way so
// that the same answer gives each server the same address as in HAProxy.

const (
	xxP1 uint32 = 2654435761
	xxP2 uint32 = 2246822519
	xxP3 uint32 = 3266489917
	xxP4 uint32 = 668265263
	xxP5 uint32 = 374761393
)

// xxh32 is the 32-bit xxHash of b with seed.
func xxh32(b []byte, seed uint32) uint32 {
	n := uint32(len(b))
	var h uint32
	if len(b) >= 16 {
		v1, v2, v3, v4 := seed+xxP1+xxP2, seed+xxP2, seed, seed-xxP1
		for len(b) >= 16 {
			v1 = xxRound(v1, binary.LittleEndian.Uint32(b[0:]))
			v2 = xxRound(v2, binary.LittleEndian.Uint32(b[4:]))
			v3 = xxRound(v3, binary.LittleEndian.Uint32(b[8:]))
			v4 = xxRound(v4, binary.LittleEndian.Uint32(b[12:]))
			b = b[16:]
		}
		h = bits.RotateLeft32(v1, 1) + bits.RotateLeft32(v2, 7) + bits.RotateLeft32(v3, 12) + bits.RotateLeft32(v4, 18)
	} else {
		h = seed + xxP5
	}
	h += n
	for ; len(b) >= 4; b = b[4:] {
		h += binary.LittleEndian.Uint32(b) * xxP3
		h = bits.RotateLeft32(h, 17) * xxP4
	}
	for _, c := range b {
		h += uint32(c) * xxP5
		h = bits.RotateLeft32(h, 11) * xxP1
	}
	h ^= h >> 15
	h *= xxP2
	h ^= h >> 13
	h *= xxP3
	h ^= h >> 16
	return h
}

func xxRound(acc, in uint32) uint32 {
	return bits.RotateLeft32(acc+in*xxP2, 13) * xxP1
}

// recordKey is HAProxy's tree key of an A (type 1) or AAAA (type 28)
// record for ip.
func recordKey(ip netip.Addr) uint32 {
	if ip.Is4() {
		a := ip.As4()
		return xxh32(a[:], 1)
	}
	a := ip.As16()
	return xxh32(a[:], 28)
}
