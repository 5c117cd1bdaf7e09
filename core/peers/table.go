package peers

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Key types on the wire (peer_net_key_type in src/peers.c).
const (
	KeySInt = 2
	KeyIPv4 = 4
	KeyIPv6 = 5
	KeyStr  = 6
	KeyBin  = 7
)

// Data types: the bit numbers of a table definition's bitfield and the
// order of an update's values (STKTABLE_DT_* of HAProxy 2.6). 0..18 are
// the ones core/sticktable stores, in the same order.
const (
	DTServerID     = 0
	DTGPT0         = 1
	DTGPC0         = 2
	DTGPC0Rate     = 3
	DTConnCnt      = 4
	DTConnRate     = 5
	DTConnCur      = 6
	DTSessCnt      = 7
	DTSessRate     = 8
	DTHTTPReqCnt   = 9
	DTHTTPReqRate  = 10
	DTHTTPErrCnt   = 11
	DTHTTPErrRate  = 12
	DTBytesInCnt   = 13
	DTBytesInRate  = 14
	DTBytesOutCnt  = 15
	DTBytesOutRate = 16
	DTGPC1         = 17
	DTGPC1Rate     = 18
	DTServerKey    = 19 // a dictionary entry (the server's name)
	DTHTTPFailCnt  = 20
	DTHTTPFailRate = 21
	DTGPT          = 22 // array
	DTGPC          = 23 // array
	DTGPCRate      = 24 // array of rates
	NumDataTypes   = 25
)

// kind is how a data type's value is encoded.
type kind uint8

const (
	kindInt  kind = iota // one encoded integer
	kindFreq             // age of the current period (ms), current and previous counts
	kindDict             // length then a dictionary cache reference
)

type dtInfo struct {
	kind  kind
	array bool
}

var dataTypes = [NumDataTypes]dtInfo{
	DTGPC0Rate: {kind: kindFreq}, DTConnRate: {kind: kindFreq}, DTSessRate: {kind: kindFreq},
	DTHTTPReqRate: {kind: kindFreq}, DTHTTPErrRate: {kind: kindFreq}, DTBytesInRate: {kind: kindFreq},
	DTBytesOutRate: {kind: kindFreq}, DTGPC1Rate: {kind: kindFreq}, DTServerKey: {kind: kindDict},
	DTHTTPFailRate: {kind: kindFreq}, DTGPT: {array: true}, DTGPC: {array: true},
	DTGPCRate: {kind: kindFreq, array: true},
}

// IsFreq reports whether data type dt is a rate (a frequency counter).
func IsFreq(dt int) bool { return dt < NumDataTypes && dataTypes[dt].kind == kindFreq }

// TableDef is a table definition message: it names the table the next
// updates are for and the data they carry.
type TableDef struct {
	ID      uint64 // the sender's id for the table (acks and switches use it)
	Name    string // the table's name: the proxy's, or the peers section's table name
	KeyType uint64 // KeySInt ... KeyBin
	KeyLen  uint64 // 4 for ip and integer, 16 for ipv6, len+1 for strings, len for binary
	Data    uint64 // bit N set: data type N is in every update
	Expire  uint64 // the table's expire in ms
	// Params are the per-type parameters: the period in ms of each rate,
	// the element count (and period) of arrays.
	Period [NumDataTypes]uint64
	NbElem [NumDataTypes]uint64
}

// Has reports whether data type dt is in the definition.
func (d *TableDef) Has(dt int) bool { return dt < 64 && d.Data&(1<<uint(dt)) != 0 }

// AppendTableDef encodes d as a complete message.
func AppendTableDef(b []byte, d *TableDef) []byte {
	var p []byte
	p = AppendVarint(p, d.ID)
	p = AppendVarint(p, uint64(len(d.Name)))
	p = append(p, d.Name...)
	p = AppendVarint(p, d.KeyType)
	p = AppendVarint(p, d.KeyLen)
	p = AppendVarint(p, d.Data)
	p = AppendVarint(p, d.Expire)
	for dt := range NumDataTypes {
		if !d.Has(dt) {
			continue
		}
		switch info := dataTypes[dt]; {
		case info.array:
			p = AppendVarint(p, uint64(dt))
			p = AppendVarint(p, d.NbElem[dt])
			if info.kind == kindFreq {
				p = AppendVarint(p, d.Period[dt])
			}
		case info.kind == kindFreq:
			p = AppendVarint(p, uint64(dt))
			p = AppendVarint(p, d.Period[dt])
		}
	}
	return AppendMessage(b, ClassStickTable, StktDefine, p)
}

// reader walks a message's data.
type reader struct {
	b   []byte
	err error
}

func (r *reader) varint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n, err := Varint(r.b)
	if err != nil {
		r.err = err
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = ErrTruncated
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u32() uint32 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

// ParseTableDef decodes a table definition's data. As HAProxy, a
// definition without the expire and parameters (a 2.0 sender) is
// accepted unless it declares an array, which needs its element count.
func ParseTableDef(data []byte) (*TableDef, error) {
	r := &reader{b: data}
	d := &TableDef{}
	d.ID = r.varint()
	d.Name = string(r.bytes(r.varint()))
	d.KeyType = r.varint()
	d.KeyLen = r.varint()
	d.Data = r.varint()
	if r.err != nil {
		return nil, fmt.Errorf("peers: table definition: %w", r.err)
	}
	if d.Name == "" {
		return nil, errors.New("peers: table definition without a name")
	}
	if len(r.b) == 0 {
		for dt := range NumDataTypes {
			if d.Has(dt) && dataTypes[dt].array {
				return nil, fmt.Errorf("peers: table %s: array data type %d without its size", d.Name, dt)
			}
		}
		return d, nil
	}
	d.Expire = r.varint()
	for dt := range NumDataTypes {
		if !d.Has(dt) {
			continue
		}
		info := dataTypes[dt]
		if !info.array && info.kind != kindFreq {
			continue
		}
		if got := r.varint(); r.err == nil && got != uint64(dt) {
			return nil, fmt.Errorf("peers: table %s: parameters of data type %d where %d was expected", d.Name, got, dt)
		}
		if info.array {
			d.NbElem[dt] = r.varint()
			if r.err == nil && (d.NbElem[dt] == 0 || d.NbElem[dt] > 100) {
				return nil, fmt.Errorf("peers: table %s: data type %d with %d elements", d.Name, dt, d.NbElem[dt])
			}
		}
		if info.kind == kindFreq {
			d.Period[dt] = r.varint()
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("peers: table %s definition: %w", d.Name, r.err)
	}
	return d, nil
}

// Freq is a rate on the wire: how long ago its current period started,
// and the counts of the current and previous periods.
type Freq struct {
	Age, Curr, Prev uint64
}

// Value is one data type's value in an update; arrays have one Value per
// element, in order.
type Value struct {
	Type int
	Int  uint64 // kindInt
	Freq Freq   // kindFreq
	Dict []byte // kindDict: the raw cache reference, kept opaque
}

// Update is an entry update.
type Update struct {
	// ID is the sender's update counter: sent with StktUpdate, the
	// previous one plus one with StktIncUpdate.
	ID       uint32
	HasID    bool
	Expire   uint32 // ms before the entry expires, with the timed types
	HasTimed bool
	Key      []byte // the raw key: 4 bytes for ip/integer (network order), 16 for ipv6, the bytes of a string
	Values   []Value
}

// AppendUpdate encodes u as a complete message for table d. Values must
// be in data type order and match d's bitfield.
func AppendUpdate(b []byte, d *TableDef, u *Update) []byte {
	var p []byte
	if u.HasID {
		p = binary.BigEndian.AppendUint32(p, u.ID)
	}
	if u.HasTimed {
		p = binary.BigEndian.AppendUint32(p, u.Expire)
	}
	if d.KeyType == KeyStr {
		p = AppendVarint(p, uint64(len(u.Key)))
	}
	p = append(p, u.Key...)
	for _, v := range u.Values {
		switch dataTypes[v.Type].kind {
		case kindFreq:
			p = AppendVarint(p, v.Freq.Age)
			p = AppendVarint(p, v.Freq.Curr)
			p = AppendVarint(p, v.Freq.Prev)
		case kindDict:
			p = AppendVarint(p, uint64(len(v.Dict)))
			p = append(p, v.Dict...)
		default:
			p = AppendVarint(p, v.Int)
		}
	}
	return AppendMessage(b, ClassStickTable, updateType(u), p)
}

func updateType(u *Update) byte {
	switch {
	case u.HasID && u.HasTimed:
		return StktUpdateTimed
	case u.HasTimed:
		return StktIncUpdateTimed
	case u.HasID:
		return StktUpdate
	}
	return StktIncUpdate
}

// ParseUpdate decodes the data of an update message of type typ for
// table d.
func ParseUpdate(typ byte, d *TableDef, data []byte) (*Update, error) {
	r := &reader{b: data}
	u := &Update{HasID: typ == StktUpdate || typ == StktUpdateTimed, HasTimed: typ == StktUpdateTimed || typ == StktIncUpdateTimed}
	if u.HasID {
		u.ID = r.u32()
	}
	if u.HasTimed {
		u.Expire = r.u32()
	}
	switch d.KeyType {
	case KeyStr:
		u.Key = r.bytes(r.varint())
	case KeySInt:
		u.Key = r.bytes(4)
	default:
		if d.KeyLen > MaxMessage {
			return nil, fmt.Errorf("peers: table %s: key length %d", d.Name, d.KeyLen)
		}
		u.Key = r.bytes(d.KeyLen)
	}
	for dt := range NumDataTypes {
		if !d.Has(dt) {
			continue
		}
		n := uint64(1)
		if dataTypes[dt].array {
			n = d.NbElem[dt]
		}
		for range n {
			u.Values = append(u.Values, r.value(dt))
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("peers: update of table %s: %w", d.Name, r.err)
	}
	return u, nil
}

func (r *reader) value(dt int) Value {
	v := Value{Type: dt}
	switch dataTypes[dt].kind {
	case kindFreq:
		v.Freq = Freq{Age: r.varint(), Curr: r.varint(), Prev: r.varint()}
	case kindDict:
		v.Dict = r.bytes(r.varint())
	default:
		v.Int = r.varint()
	}
	return v
}

// Ack acknowledges the updates of a table up to Update.
type Ack struct {
	TableID uint64 // the id the receiver of the ack gave the table
	Update  uint32
}

// AppendAck encodes a as a complete message.
func AppendAck(b []byte, a Ack) []byte {
	p := AppendVarint(nil, a.TableID)
	p = binary.BigEndian.AppendUint32(p, a.Update)
	return AppendMessage(b, ClassStickTable, StktAck, p)
}

// ParseAck decodes an ack's data.
func ParseAck(data []byte) (Ack, error) {
	r := &reader{b: data}
	a := Ack{TableID: r.varint(), Update: r.u32()}
	if r.err != nil {
		return Ack{}, fmt.Errorf("peers: ack: %w", r.err)
	}
	return a, nil
}
