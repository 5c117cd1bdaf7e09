package sticktable

// What the peers protocol (core/peers) needs from a table: the entries
// changed locally since the last push, a snapshot of every entry (a full
// resync), and applying an entry a peer sent without queueing it back.

// Snapshot is one entry's key and values at a moment.
type Snapshot struct {
	Key []byte
	// Vals holds the plain types, Freqs the rates, both indexed by
	// DataType (only the stored types are meaningful: see Table.Stores).
	Vals  [numTypes]uint64
	Freqs [numTypes]FreqState
	// ExpireIn is the ms left before the entry expires (0: no expire).
	ExpireIn int64
}

// FreqState is a rate as the peers protocol carries it: how long ago its
// current period started (ms), and the counts of the current and
// previous periods.
type FreqState struct {
	Age        int64
	Cur, Prev  uint64
	EverUpdate bool
}

// Watch makes every later local change queue its entry for Changes, until
// as many Unwatch. Tables that share a store (a reload's adoption) share
// the queue: the nodes of two generations may watch it at once.
func (t *Table) Watch() { t.st.watched.Add(1) }

// Unwatch undoes a Watch; the last one empties the queue, which nobody
// drains any more.
func (t *Table) Unwatch() {
	if t.st.watched.Add(-1) > 0 {
		return
	}
	for i := range t.st.shards {
		sh := &t.st.shards[i]
		sh.mu.Lock()
		for _, e := range sh.changed {
			e.queued = false
		}
		sh.changed = nil
		sh.mu.Unlock()
	}
}

// Changes calls fn with a snapshot of every entry changed locally since
// the previous call, and empties the queue.
func (t *Table) Changes(fn func(*Snapshot)) {
	var s Snapshot
	for i := range t.st.shards {
		sh := &t.st.shards[i]
		sh.mu.Lock()
		list := sh.changed
		sh.changed = nil
		now := t.clock()
		snaps := make([]Snapshot, 0, len(list))
		for _, e := range list {
			e.queued = false
			if !e.dead {
				t.snapLocked(e, now, &s)
				snaps = append(snaps, s)
			}
		}
		sh.mu.Unlock()
		for i := range snaps {
			fn(&snaps[i])
		}
	}
}

// Each calls fn with a snapshot of every live entry (a full resync).
func (t *Table) Each(fn func(*Snapshot)) {
	for i := range t.st.shards {
		sh := &t.st.shards[i]
		sh.mu.Lock()
		now := t.clock()
		snaps := make([]Snapshot, 0, len(sh.m))
		var s Snapshot
		for _, e := range sh.m {
			if !e.expired(now) {
				t.snapLocked(e, now, &s)
				snaps = append(snaps, s)
			}
		}
		sh.mu.Unlock()
		for i := range snaps {
			fn(&snaps[i])
		}
	}
}

func (t *Table) snapLocked(e *Entry, now int64, s *Snapshot) {
	*s = Snapshot{Key: []byte(e.key)}
	if e.exp != 0 {
		s.ExpireIn = max(e.exp-now, 0)
	}
	for d := range DataType(numTypes) {
		i := t.slot[d]
		if i < 0 {
			continue
		}
		if d.IsRate() {
			f := e.frq[i]
			s.Freqs[d] = FreqState{Age: max(now-f.tick, 0), Cur: f.cur, Prev: f.prev, EverUpdate: f.everUpdate}
		} else {
			s.Vals[d] = e.vals[i]
		}
	}
}

// Apply stores what a peer sent for key: each type in has that the
// table stores takes the value in s (as HAProxy, a peer's value replaces
// the local one), and the entry expires after the table's expire. The
// entry is not queued for the peers: updates learnt from a peer are not
// pushed back. False when the table is full.
func (t *Table) Apply(key []byte, s *Snapshot, has func(DataType) bool) bool {
	e := t.get(key, false)
	if e == nil {
		return false
	}
	now := t.clock()
	e.sh.mu.Lock()
	defer e.sh.mu.Unlock()
	for d := range DataType(numTypes) {
		i := t.slot[d]
		if i < 0 || !has(d) {
			continue
		}
		if d.IsRate() {
			f := s.Freqs[d]
			e.frq[i] = Freq{tick: now - f.Age, cur: f.Cur, prev: f.Prev, everUpdate: true}
		} else {
			e.vals[i] = s.Vals[d]
		}
	}
	if t.Def.Expire > 0 {
		e.exp = now + int64(t.Def.Expire.Milliseconds())
	}
	return true
}
