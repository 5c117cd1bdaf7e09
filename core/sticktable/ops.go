package sticktable

// Counter updates, each under the entry's shard lock. A tracked entry
// (Track) is never evicted or expired until Untrack.

// Track returns the entry of key with one more reference, creating it;
// nil when the table is full of tracked entries (or nopurge).
func (t *Table) Track(key []byte) *Entry {
	for tries := 0; tries < 3; tries++ {
		e := t.Get(key)
		if e == nil {
			return nil
		}
		e.sh.mu.Lock()
		if !e.dead {
			e.refs++
			e.sh.mu.Unlock()
			return e
		}
		e.sh.mu.Unlock() // evicted between Get and here: again
	}
	return nil
}

// StartConn counts a connection (conn_cnt, conn_rate, conn_cur) on a
// newly tracked entry and refreshes its expiry, as HAProxy's
// stream_start_counters.
func (t *Table) StartConn(e *Entry) {
	now := t.clock()
	e.sh.mu.Lock()
	t.incLocked(e, ConnCur, now, 1)
	t.incLocked(e, ConnCnt, now, 1)
	t.incLocked(e, ConnRate, now, 1)
	t.touchLocked(e, now)
	e.sh.mu.Unlock()
}

// Untrack drops the reference Track took and the connection it counted
// (conn_cur), refreshing the expiry.
func (t *Table) Untrack(e *Entry) {
	now := t.clock()
	e.sh.mu.Lock()
	if i := t.slot[ConnCur]; i >= 0 && e.vals[i] > 0 {
		e.vals[i]--
	}
	t.touchLocked(e, now)
	e.refs--
	e.sh.mu.Unlock()
}

func (t *Table) incLocked(e *Entry, d DataType, now int64, n uint64) bool {
	i := t.slot[d]
	if i < 0 {
		return false
	}
	if d.IsRate() {
		e.frq[i].Add(now, t.period[d], n)
	} else {
		e.vals[i] += n
	}
	return true
}

// Inc adds n to the counter d and to its rate dr (either may be absent
// from the table), refreshing the expiry when one was stored: the HTTP
// request, error and byte counters.
func (t *Table) Inc(e *Entry, d, dr DataType, n uint64) {
	if t.slot[d] < 0 && t.slot[dr] < 0 {
		return
	}
	now := t.clock()
	e.sh.mu.Lock()
	t.incLocked(e, d, now, n)
	t.incLocked(e, dr, now, n)
	t.touchLocked(e, now)
	e.sh.mu.Unlock()
}

// IncGPC0 increments gpc0 (and gpc0_rate) and returns gpc0's new value;
// ok is false when the table stores neither.
func (t *Table) IncGPC0(e *Entry) (uint64, bool) { return t.incGPC(e, GPC0, GPC0Rate) }

// IncGPC1 is IncGPC0 for gpc1 and gpc1_rate.
func (t *Table) IncGPC1(e *Entry) (uint64, bool) { return t.incGPC(e, GPC1, GPC1Rate) }

// incGPC increments the counter gpc and its rate; it returns gpc's new
// value (0 when only the rate is stored); ok is false when neither is.
func (t *Table) incGPC(e *Entry, gpc, rate DataType) (uint64, bool) {
	if t.slot[gpc] < 0 && t.slot[rate] < 0 {
		return 0, false
	}
	now := t.clock()
	e.sh.mu.Lock()
	defer e.sh.mu.Unlock()
	t.incLocked(e, rate, now, 1)
	t.touchLocked(e, now)
	if i := t.slot[gpc]; i >= 0 {
		e.vals[i]++
		return e.vals[i], true
	}
	return 0, true
}

// Set stores v in the plain (non-rate) data type d; false when absent.
func (t *Table) Set(e *Entry, d DataType, v uint64) bool {
	i := t.slot[d]
	if i < 0 || d.IsRate() {
		return false
	}
	now := t.clock()
	e.sh.mu.Lock()
	e.vals[i] = v
	t.touchLocked(e, now)
	e.sh.mu.Unlock()
	return true
}

// Read returns data type d of e (a rate over its period); ok is false
// when the table does not store d.
func (t *Table) Read(e *Entry, d DataType) (uint64, bool) {
	i := t.slot[d]
	if i < 0 {
		return 0, false
	}
	now := t.clock()
	e.sh.mu.Lock()
	defer e.sh.mu.Unlock()
	if d.IsRate() {
		return e.frq[i].Read(now, t.period[d]), true
	}
	return e.vals[i], true
}

// ReadKey reads d of key's entry without creating it: a key not in the
// table reads as 0 (src_* fetches); ok is false when d is not stored.
func (t *Table) ReadKey(key []byte, d DataType) (uint64, bool) {
	if t.slot[d] < 0 {
		return 0, false
	}
	e := t.Lookup(key)
	if e == nil {
		return 0, true
	}
	return t.Read(e, d)
}

// Touch refreshes e's expiry (a stick match that found it).
func (t *Table) Touch(e *Entry) {
	now := t.clock()
	e.sh.mu.Lock()
	t.touchLocked(e, now)
	e.sh.mu.Unlock()
}
