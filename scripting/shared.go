package scripting

import (
	"sort"
	"sync"
	"time"
)

// SharedTable is a policy's key/value table with a TTL per key, shared by
// every state or instance of that policy (rate counters, A/B assignments,
// a blue/green switch set through the admin socket). Values are strings or
// numbers (float64). It survives a reload when the policy file did not
// change (Tables).
type SharedTable struct {
	mu  sync.RWMutex // reads (the common case on the request path) share it
	m   map[string]sharedItem
	max int
	now func() time.Time
}

type sharedItem struct {
	v   any
	exp time.Time // zero: never
}

// DefaultSharedMax bounds a table's keys: a script counting every client
// address cannot grow the process without end.
const DefaultSharedMax = 100000

// NewSharedTable returns an empty table holding at most max keys (0 means
// DefaultSharedMax).
func NewSharedTable(max int) *SharedTable {
	if max <= 0 {
		max = DefaultSharedMax
	}
	return &SharedTable{m: map[string]sharedItem{}, max: max, now: time.Now}
}

// Get returns key's value unless absent or expired. It only reads: an
// expired key is removed by a later Set, Incr or a full table's sweep.
func (t *SharedTable) Get(key string) (any, bool) {
	t.mu.RLock()
	it, ok := t.m[key]
	t.mu.RUnlock()
	if !ok {
		return nil, false
	}
	if !it.exp.IsZero() && !t.now().Before(it.exp) {
		return nil, false
	}
	return it.v, true
}

// Set stores v under key for ttl (0: no expiry). A nil v deletes. When the
// table is full it drops expired keys first; if still full the set is
// refused and false returned.
func (t *SharedTable) Set(key string, v any, ttl time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v == nil {
		delete(t.m, key)
		return true
	}
	if _, exists := t.m[key]; !exists && len(t.m) >= t.max {
		t.expireLocked()
		if len(t.m) >= t.max {
			return false
		}
	}
	it := sharedItem{v: v}
	if ttl > 0 {
		it.exp = t.now().Add(ttl)
	}
	t.m[key] = it
	return true
}

// Incr adds delta to the number under key (absent or expired counts as 0),
// keeping its expiry or setting ttl when it starts a new one, and returns
// the new value. A non-number value is replaced.
func (t *SharedTable) Incr(key string, delta float64, ttl time.Duration) (float64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	it, ok := t.m[key]
	if ok && !it.exp.IsZero() && !now.Before(it.exp) {
		ok = false
	}
	if !ok {
		if len(t.m) >= t.max {
			t.expireLocked()
			if len(t.m) >= t.max {
				return 0, false
			}
		}
		it = sharedItem{v: 0.0}
		if ttl > 0 {
			it.exp = now.Add(ttl)
		}
	}
	n, _ := it.v.(float64)
	n += delta
	it.v = n
	t.m[key] = it
	return n, true
}

// Len is the number of keys, expired ones included until touched.
func (t *SharedTable) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.m)
}

func (t *SharedTable) expireLocked() {
	now := t.now()
	for k, it := range t.m {
		if !it.exp.IsZero() && !now.Before(it.exp) {
			delete(t.m, k)
		}
	}
}

// Tables keeps each policy's shared table across generations, by file path
// and content hash: a reload whose policy file did not change gets the same
// table; a changed file starts empty. The one process-wide instance is
// SharedTables (a registry, like the engines').
type Tables struct {
	mu sync.Mutex
	m  map[string]*tableRef
}

type tableRef struct {
	t    *SharedTable
	hash string
	refs int
}

// SharedTables is the process's registry of shared tables.
var SharedTables = &Tables{m: map[string]*tableRef{}}

// Acquire returns the table for path at content hash, creating it (empty)
// when none is held or the content changed. Call Release when the policy
// holding it closes.
func (ts *Tables) Acquire(path, hash string) *SharedTable {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	r := ts.m[path]
	if r == nil || r.hash != hash {
		r = &tableRef{t: NewSharedTable(0), hash: hash}
		ts.m[path] = r
	}
	r.refs++
	return r.t
}

// Release drops one reference to t; the last one forgets it.
func (ts *Tables) Release(path string, t *SharedTable) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	r := ts.m[path]
	if r == nil || r.t != t {
		return
	}
	r.refs--
	if r.refs <= 0 {
		delete(ts.m, path)
	}
}

// Lookup returns the table currently held for path (admin socket `set
// policy var`), or nil.
func (ts *Tables) Lookup(path string) *SharedTable {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if r := ts.m[path]; r != nil {
		return r.t
	}
	return nil
}

// Keys lists the keys that have not expired, sorted.
func (t *SharedTable) Keys() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked()
	out := make([]string, 0, len(t.m))
	for k := range t.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
