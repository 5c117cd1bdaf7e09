package proxyproto

import (
	"encoding/binary"
	"hash/crc32"
	"net/netip"
)

// Address block sizes by family.
const (
	addrLenInet  = 12
	addrLenInet6 = 36
	addrLenUnix  = 216
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// parseV2 parses a binary header: signature, version/command, family,
// length, addresses, TLVs.
func parseV2(b []byte, h *Header) (int, error) {
	if err := prefixOf(b, string(v2Sig[:])); err != nil {
		return 0, err
	}
	if len(b) < V2HeaderLen {
		return 0, ErrIncomplete
	}
	verCmd, fam := b[12], b[13]
	n := V2HeaderLen + int(binary.BigEndian.Uint16(b[14:16]))
	if verCmd>>4 != 2 {
		return 0, ErrInvalid
	}
	if n > MaxV2Len {
		return 0, ErrTooLong
	}
	if len(b) < n {
		return 0, ErrIncomplete
	}
	h.Version = 2
	switch verCmd & 0xf {
	case 0: // LOCAL: a health check or the sender's own traffic
		h.Local = true
		return n, nil
	case 1: // PROXY
	default:
		return 0, ErrInvalid
	}
	tlvs, err := addresses(b[V2HeaderLen:n], fam, h)
	if err != nil {
		return 0, err
	}
	if err := parseTLVs(b[:n], V2HeaderLen+tlvs, h); err != nil {
		return 0, err
	}
	return n, nil
}

// addresses reads the address block for fam and returns its length (where
// the TLVs start, relative to the block).
func addresses(blk []byte, fam byte, h *Header) (int, error) {
	af, tr := fam>>4, fam&0xf
	if af > 3 || tr > 2 {
		return 0, ErrInvalid
	}
	size := [4]int{0, addrLenInet, addrLenInet6, addrLenUnix}[af]
	if len(blk) < size {
		return 0, ErrInvalid
	}
	if tr != 1 || af == 0 || af == 3 {
		// UNSPEC, UNIX, or datagrams: no TCP client address to take.
		h.Local = true
		return size, nil
	}
	if af == 1 {
		h.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(blk[0:4])), binary.BigEndian.Uint16(blk[8:10]))
		h.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(blk[4:8])), binary.BigEndian.Uint16(blk[10:12]))
		return size, nil
	}
	h.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(blk[0:16])).Unmap(), binary.BigEndian.Uint16(blk[32:34]))
	h.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(blk[16:32])).Unmap(), binary.BigEndian.Uint16(blk[34:36]))
	return size, nil
}

// parseTLVs reads the TLVs of hdr (the whole header) from off; they must
// end exactly at the header's end.
func parseTLVs(hdr []byte, off int, h *Header) error {
	for off < len(hdr) {
		if len(hdr)-off < 3 {
			return ErrInvalid
		}
		typ, l := hdr[off], int(binary.BigEndian.Uint16(hdr[off+1:off+3]))
		v0 := off + 3
		if l > len(hdr)-v0 {
			return ErrInvalid
		}
		val := hdr[v0 : v0+l]
		if err := takeTLV(hdr, v0, typ, val, h); err != nil {
			return err
		}
		off = v0 + l
	}
	return nil
}

func takeTLV(hdr []byte, v0 int, typ byte, val []byte, h *Header) error {
	switch typ {
	case TypeAuthority:
		if len(val) > MaxAuthority {
			return ErrInvalid
		}
		h.Authority = val
	case TypeUniqueID:
		if len(val) > MaxUniqueID {
			return ErrInvalid
		}
		h.UniqueID = val
	case TypeALPN:
		h.ALPN = val
	case TypeCRC32C:
		if len(val) != 4 || !crcOK(hdr, v0) {
			return ErrInvalid
		}
	case TypeSSL:
		return takeSSL(val, h)
	}
	return nil
}

// crcOK checks the CRC32c of the header computed with its own value (at
// v0) taken as zero.
func crcOK(hdr []byte, v0 int) bool {
	var zero [4]byte
	c := crc32.Update(0, castagnoli, hdr[:v0])
	c = crc32.Update(c, castagnoli, zero[:])
	c = crc32.Update(c, castagnoli, hdr[v0+4:])
	return c == binary.BigEndian.Uint32(hdr[v0:v0+4])
}

// takeSSL reads PP2_TYPE_SSL: client flags, verify result, sub-TLVs that
// must fit its value exactly.
func takeSSL(val []byte, h *Header) error {
	if len(val) < 5 {
		return ErrInvalid
	}
	h.SSL = true
	h.SSLClient = val[0]
	h.SSLVerify = binary.BigEndian.Uint32(val[1:5])
	for off := 5; off < len(val); {
		if len(val)-off < 3 {
			return ErrInvalid
		}
		l := int(binary.BigEndian.Uint16(val[off+1 : off+3]))
		if l > len(val)-off-3 {
			return ErrInvalid
		}
		off += 3 + l
	}
	return nil
}
