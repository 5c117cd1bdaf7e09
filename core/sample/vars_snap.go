package sample

import (
	"encoding/binary"
	"net/netip"
)

// A log line is written after its transaction ended, from a copy of the
// facts (core/logrec): AppendSnapshot encodes the variables the
// transaction could read when it was logged (txn., sess., and req. or
// res.), and Restore rebuilds them for the log-format's var() fetches.
// proc. variables are read live. Each entry is
// scope(1) nameLen(1) name type(1) valLen(2) value; entries that do not
// fit in max bytes are left out.

// AppendSnapshot appends the encoded variables to dst, at most max bytes
// in all; the first byte says whether the response was being processed.
func (vs *Vars) AppendSnapshot(dst []byte, max int) []byte {
	if vs == nil || len(vs.txn.e) == 0 && len(vs.reqres.e) == 0 && vs.Sess == nil {
		return dst
	}
	limit := len(dst) + max
	flag := byte(0)
	if vs.response {
		flag = 1
	}
	dst = append(dst, flag)
	dst = snapList(dst, limit, &vs.txn, ScopeTxn)
	sc := ScopeReq
	if vs.response {
		sc = ScopeRes
	}
	dst = snapList(dst, limit, &vs.reqres, sc)
	if vs.Sess != nil {
		vs.Sess.mu.Lock()
		dst = snapList(dst, limit, &vs.Sess.l, ScopeSess)
		vs.Sess.mu.Unlock()
	}
	return dst
}

func snapList(dst []byte, limit int, l *varList, sc Scope) []byte {
	for i := range l.e {
		e := &l.e[i]
		if !e.live || e.v.Type == TypeAny || len(e.name) > 255 {
			continue
		}
		var val []byte
		var ibuf [16]byte
		switch e.v.Type {
		case TypeBool, TypeInt:
			binary.BigEndian.PutUint64(ibuf[:8], uint64(e.v.Int))
			val = ibuf[:8]
		case TypeAddr:
			a := e.v.Addr.As16()
			val = a[:]
			if e.v.Addr.Is4() {
				a4 := e.v.Addr.As4()
				copy(ibuf[:4], a4[:])
				val = ibuf[:4]
			}
		default:
			val = e.v.Str
		}
		if len(val) > 0xffff || len(dst)+5+len(e.name)+len(val) > limit {
			continue
		}
		dst = append(dst, byte(sc), byte(len(e.name)))
		dst = append(dst, e.name...)
		dst = append(dst, byte(e.v.Type), byte(len(val)>>8), byte(len(val)))
		dst = append(dst, val...)
	}
	return dst
}

// Restore replaces vs's txn., req./res. and sess. variables by those of a
// snapshot (no limit is accounted: the transaction is over). Names and
// values alias snap, which must outlive their use.
func (vs *Vars) Restore(snap []byte, sess *SessVars) {
	vs.txn.clear()
	vs.reqres.clear()
	vs.response = false
	vs.Sess = nil
	if len(snap) == 0 {
		return
	}
	vs.response = snap[0] == 1
	if sess != nil {
		sess.l.clear()
		vs.Sess = sess
	}
	for p := snap[1:]; len(p) >= 5; {
		sc, n := Scope(p[0]), int(p[1])
		if len(p) < 2+n+3 {
			return
		}
		name := p[2 : 2+n]
		t := Type(p[2+n])
		m := int(p[3+n])<<8 | int(p[4+n])
		p = p[5+n:]
		if len(p) < m {
			return
		}
		val := p[:m]
		p = p[m:]
		var v Value
		switch t {
		case TypeBool, TypeInt:
			if m == 8 {
				v = Value{Type: t, Int: int64(binary.BigEndian.Uint64(val))}
			}
		case TypeAddr:
			if a, ok := netip.AddrFromSlice(val); ok {
				v.SetAddr(a)
			}
		default:
			v = Value{Type: t, Str: val}
		}
		l := &vs.txn
		switch sc {
		case ScopeReq, ScopeRes:
			l = &vs.reqres
		case ScopeSess:
			if vs.Sess == nil {
				continue
			}
			l = &vs.Sess.l
		}
		e := l.add(bytesString(name))
		e.v = v
	}
}
