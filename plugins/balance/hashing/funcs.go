// Package hashing holds what every hash-based balancing algorithm shares:
// HAProxy's hash functions (sdbm, djb2, wt6, crc32) and its avalanche
// mixer, the two lookups (`hash-type map-based`, the default, and
// `consistent`), the round-robin fallback used when a request carries no
// key, and a Balancer that glues a key extractor to a lookup.
//
// The algorithms (source, uri, url_param, hdr) only extract a key; this
// package maps it to a server exactly as HAProxy's lb_map.c and lb_chash.c
// do, so that the same key and server list select the same server.
package hashing

import (
	"fmt"

	"github.com/varde-lb/varde/core"
)

// The functions are registered with core so that core/config judges
// `hash-type ... FUNCTION` against what exists, without importing plugins.
func init() {
	core.RegisterHashFunc("sdbm", SDBM)
	core.RegisterHashFunc("djb2", DJB2)
	core.RegisterHashFunc("wt6", WT6)
	core.RegisterHashFunc("crc32", CRC32)
}

// Func is a hash function over a key.
type Func = core.HashFunc

// SDBM is HAProxy's default hash function.
func SDBM(key []byte) uint32 {
	var h uint32
	for _, c := range key {
		h = uint32(c) + (h << 6) + (h << 16) - h
	}
	return h
}

// DJB2 is Daniel J. Bernstein's hash (h*33 + c, seeded with 5381).
func DJB2(key []byte) uint32 {
	h := uint32(5381)
	for _, c := range key {
		h = (h << 5) + h + uint32(c)
	}
	return h
}

// WT6 is Willy Tarreau's hash with data-dependent rotations.
func WT6(key []byte) uint32 {
	h0, h1 := uint32(0xa53c965a), uint32(0x5ca6953a)
	step0, step1 := uint32(6), uint32(18)
	for _, c := range key {
		t := uint32(c)
		h0 = ^(h0 ^ t)
		h1 = ^(h1 + t)
		t = h1<<step0 | h1>>(32-step0)
		h1 = h0<<step1 | h0>>(32-step1)
		h0 = t
		t = ((h0 >> 16) ^ h1) & 0xffff
		step0 = t & 0x1f
		step1 = t >> 11
	}
	return h0 ^ h1
}

var crcTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0xedb88320
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC32 is the IEEE 802.3 CRC (the same value as hash/crc32.ChecksumIEEE).
func CRC32(key []byte) uint32 {
	h := ^uint32(0)
	for _, c := range key {
		h = crcTable[byte(h)^c] ^ h>>8
	}
	return ^h
}

// FullHash is Bob Jenkins' 32-bit integer avalanche function followed by a
// multiplication by a large prime, as HAProxy applies with `avalanche` and
// to place consistent-hashing nodes on the ring.
func FullHash(a uint32) uint32 {
	a = (a + 0x7ed55d16) + (a << 12)
	a = (a ^ 0xc761c23c) ^ (a >> 19)
	a = (a + 0x165667b1) + (a << 5)
	a = (a + 0xd3a2646c) ^ (a << 9)
	a = (a + 0xfd7046c5) + (a << 3)
	a = (a ^ 0xb55a4f09) ^ (a >> 16)
	return a * 3221225473
}

// FuncByName returns the registered hash function called name ("" = sdbm,
// HAProxy's default).
func FuncByName(name string) (Func, error) {
	if name == "" {
		return SDBM, nil
	}
	if f, ok := core.LookupHashFunc(name); ok {
		return f, nil
	}
	return nil, fmt.Errorf("unknown hash function %q (hint: one of %v)", name, core.HashFuncNames())
}
