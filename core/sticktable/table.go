// Package sticktable is HAProxy's stick tables: entries keyed by an
// address, an integer or a string, each holding the counters its table
// stores (connection and request counts and rates, general purpose
// counters, a server id), expiring after `expire` without use and evicted
// oldest-first when the table is full. The engine tracks entries
// (track-sc0/1/2), sample fetches read them (sc_*, src_*), the admin socket
// shows and edits them.
package sticktable

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

const nShards = 16

// Table is one stick table. Safe for concurrent use.
type Table struct {
	Def    Def
	slot   [numTypes]int8 // data type -> index in Entry.vals, -1: not stored
	period [numTypes]int64
	nvals  int
	st     *store
	clock  func() int64 // ms; tests replace it
}

// store is a table's entries; a reload's table with the same definition
// adopts its predecessor's store (Adopt), so both generations count into
// the same entries while the old one drains.
type store struct {
	shards [nShards]shard
	mu     sync.Mutex // count
	count  int
	// watched counts the peers nodes pushing this table's changes
	// (peers.go); while it is not zero each change queues its entry once.
	watched atomic.Int32
}

type shard struct {
	mu      sync.Mutex
	m       map[string]*Entry
	changed []*Entry // entries changed since the last Changes (watched tables)
}

// Entry is one key's counters. Its fields are guarded by its table
// shard's lock; use the Table's methods.
type Entry struct {
	key  string
	exp  int64 // ms; 0 with no expire
	refs int32 // tracked by this many sessions: never evicted then
	vals []uint64
	frq  []Freq
	dead bool // removed from the table while tracked
	sh   *shard
	// queued: in its shard's changed list, waiting to be pushed to peers.
	queued bool
}

var epoch = time.Now()

func monoMS() int64 { return int64(time.Since(epoch) / time.Millisecond) }

// New builds an empty table for d.
func New(d Def) *Table {
	t := &Table{Def: d, clock: monoMS, st: &store{}}
	for i := range t.slot {
		t.slot[i] = -1
	}
	for _, s := range d.Store {
		if t.slot[s.Type] >= 0 {
			continue
		}
		t.slot[s.Type] = int8(t.nvals)
		t.period[s.Type] = int64(s.Period / time.Millisecond)
		t.nvals++
	}
	for i := range t.st.shards {
		t.st.shards[i].m = map[string]*Entry{}
	}
	return t
}

// SetClock replaces the millisecond clock (tests).
func (t *Table) SetClock(f func() int64) { t.clock = f }

// Stores reports whether the table stores data type d.
func (t *Table) Stores(d DataType) bool { return t.slot[d] >= 0 }

// Len is the number of entries (HAProxy's `used`).
func (t *Table) Len() int {
	t.st.mu.Lock()
	defer t.st.mu.Unlock()
	return t.st.count
}

func (t *Table) shardOf(key []byte) *shard {
	// FNV-1a: cheap, and spreads addresses that differ in one byte.
	h := uint32(2166136261)
	for _, c := range key {
		h = (h ^ uint32(c)) * 16777619
	}
	return &t.st.shards[h%nShards]
}

// KeyOfAddr writes the key of address a into buf (len >= 16) and returns
// it; ok is false when the table's type cannot hold a (an IPv6 address in
// an `ip` table), as HAProxy then tracks nothing.
func (t *Table) KeyOfAddr(a netip.Addr, buf []byte) ([]byte, bool) {
	a = a.Unmap()
	switch t.Def.Key {
	case KeyIP:
		if !a.Is4() {
			return nil, false
		}
		b := a.As4()
		return append(buf[:0], b[:]...), true
	case KeyIPv6:
		b := a.As16()
		return append(buf[:0], b[:]...), true
	}
	return t.KeyOfString(a.AppendTo(buf[:0])), true
}

// KeyOfInt writes the key of integer n into buf.
func (t *Table) KeyOfInt(n int64, buf []byte) []byte {
	u := uint32(n)
	return append(buf[:0], byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
}

// KeyOfString cuts a string or binary key to the table's key length; a
// shorter binary key is padded with zeros to it, as HAProxy pads them
// (smp_to_stkey), so keys are the same bytes on both (show table, peers).
// b must be the caller's own buffer: padding appends to it.
func (t *Table) KeyOfString(b []byte) []byte {
	n := t.keyLen()
	if len(b) > n {
		b = b[:n]
	}
	if t.Def.Key == KeyBinary {
		for len(b) < n {
			b = append(b, 0)
		}
	}
	return b
}

func (t *Table) keyLen() int {
	if t.Def.KeyLen > 0 {
		return t.Def.KeyLen
	}
	return 32
}

// Lookup returns the live entry of key, or nil; it does not create one.
// The entry stays valid for reading while the caller holds no lock.
func (t *Table) Lookup(key []byte) *Entry {
	sh := t.shardOf(key)
	sh.mu.Lock()
	e := t.liveLocked(sh, key, t.clock())
	sh.mu.Unlock()
	return e
}

// liveLocked returns key's entry in sh unless it expired (then it is
// removed); the caller holds sh.mu.
func (t *Table) liveLocked(sh *shard, key []byte, now int64) *Entry {
	e := sh.m[string(key)]
	if e != nil && e.expired(now) {
		t.removeLocked(sh, e)
		e = nil
	}
	return e
}

func (e *Entry) expired(now int64) bool { return e.refs == 0 && e.exp != 0 && now >= e.exp }

// Get returns the entry of key, creating it (and making room) when
// absent; nil when the table is full and nothing may be evicted.
func (t *Table) Get(key []byte) *Entry { return t.get(key, true) }

// get is Get; a new entry is queued for the peers only with local set
// (an entry a peer sent is not pushed back).
func (t *Table) get(key []byte, local bool) *Entry {
	sh := t.shardOf(key)
	now := t.clock()
	sh.mu.Lock()
	e := t.liveLocked(sh, key, now)
	if e != nil {
		sh.mu.Unlock()
		return e
	}
	sh.mu.Unlock()
	if !t.reserve(now) {
		return nil
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e = sh.m[string(key)]; e != nil { // created meanwhile
		t.unreserve()
		return e
	}
	e = &Entry{key: string(key), vals: make([]uint64, t.nvals), frq: make([]Freq, t.nvals), sh: sh, queued: !local}
	t.touchLocked(e, now)
	if !local {
		e.queued = false // it was marked to skip the queue
	}
	sh.m[e.key] = e
	return e
}

// reserve counts one more entry, evicting the oldest unused entries
// first when the table is full (unless nopurge).
func (t *Table) reserve(now int64) bool {
	for tries := 0; tries < 8; tries++ {
		t.st.mu.Lock()
		full := t.st.count >= t.Def.Size
		if !full {
			t.st.count++
		}
		t.st.mu.Unlock()
		if !full {
			return true
		}
		// Room made here may be taken by another goroutine first: try
		// again, a bounded number of times.
		if t.Def.NoPurge || !t.evictOne(now) {
			return false
		}
	}
	return false
}

func (t *Table) unreserve() {
	t.st.mu.Lock()
	t.st.count--
	t.st.mu.Unlock()
}

// evictOne removes the unused entry that expires first (HAProxy trashes
// the oldest), looking at every shard; false when all are in use.
func (t *Table) evictOne(now int64) bool {
	var best *Entry
	var bestExp int64
	for i := range t.st.shards {
		sh := &t.st.shards[i]
		sh.mu.Lock()
		for _, e := range sh.m {
			if e.refs == 0 && (best == nil || e.exp < bestExp) {
				best, bestExp = e, e.exp
			}
		}
		sh.mu.Unlock()
	}
	if best == nil {
		return false
	}
	best.sh.mu.Lock()
	ok := best.sh.m[best.key] == best && best.refs == 0
	if ok {
		t.removeLocked(best.sh, best)
	}
	best.sh.mu.Unlock()
	return ok
}

func (t *Table) removeLocked(sh *shard, e *Entry) {
	delete(sh.m, e.key)
	e.dead = true
	t.unreserve()
}

// touchLocked refreshes e's expiry after a local change, and queues e
// for the peers when they watch the table.
func (t *Table) touchLocked(e *Entry, now int64) {
	if t.Def.Expire > 0 {
		e.exp = now + int64(t.Def.Expire/time.Millisecond)
	}
	if !e.queued && t.st.watched.Load() > 0 {
		e.queued = true
		e.sh.changed = append(e.sh.changed, e)
	}
}

// Sweep removes the expired unused entries.
func (t *Table) Sweep() {
	now := t.clock()
	for i := range t.st.shards {
		sh := &t.st.shards[i]
		sh.mu.Lock()
		for _, e := range sh.m {
			if e.expired(now) {
				t.removeLocked(sh, e)
			}
		}
		sh.mu.Unlock()
	}
}

// Clear removes every unused entry; the tracked ones stay, as in HAProxy.
func (t *Table) Clear() {
	for i := range t.st.shards {
		sh := &t.st.shards[i]
		sh.mu.Lock()
		for _, e := range sh.m {
			if e.refs == 0 {
				t.removeLocked(sh, e)
			}
		}
		sh.mu.Unlock()
	}
}

// Remove deletes the entry of key; false when it is tracked (in use).
func (t *Table) Remove(key []byte) bool {
	sh := t.shardOf(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[string(key)]
	if e == nil {
		return true
	}
	if e.refs > 0 {
		return false
	}
	t.removeLocked(sh, e)
	return true
}

// Adopt makes t share old's entries when both have the same definition
// (a reload that did not change the table); false otherwise, and t keeps
// its own empty store. Call it before t is used.
func (t *Table) Adopt(old *Table) bool {
	if old == nil || !t.Def.Equal(&old.Def) {
		return false
	}
	t.st = old.st
	return true
}

// LookupEntryKey returns the live entry of t with e's key (e from another
// table: sc_*(N,TABLE)), or nil.
func (t *Table) LookupEntryKey(e *Entry) *Entry {
	if e == nil {
		return nil
	}
	return t.Lookup(unsafeBytes(e.key))
}
