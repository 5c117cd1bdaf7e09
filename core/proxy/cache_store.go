package proxy

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core/config"
)

// Cache is one `cache NAME` section at run time: HAProxy 2.6's small
// object cache (src/cache.c). Objects are found by the SHA-1 of the
// request's host and URI (the primary key) and, for responses that vary,
// by a secondary key built from the request's Accept-Encoding and Referer.
//
// Memory is counted as HAProxy counts it, in 1 kB blocks of total-max-size:
// an object takes the blocks its head and body need plus its bookkeeping;
// storing one evicts the least recently used objects until it fits. An
// entry is immutable once stored, so a hit takes the lock only for the
// lookup and then writes from the entry with no lock (the body is copied
// after the head into the session's output buffer, which a session does
// not keep beyond 64 KiB: cache_serve.go); an
// evicted entry a hit still writes from stays alive until that write ends
// (the garbage collector frees it), which bounds the overshoot by the
// objects being sent at once.
type Cache struct {
	Name      string
	maxAge    int64 // seconds
	maxObj    int   // bytes
	maxBlocks int
	vary      bool
	maxSec    int

	mu      sync.Mutex
	entries map[[20]byte]*cacheEntry // primary key: the variants, newest first
	lru     cacheEntry               // sentinel of the recency list (head: oldest)
	used    int                      // blocks taken
	skew    atomic.Int64             // seconds added to the clock (tests move time)
}

// now is the cache's clock in unix seconds.
func (k *Cache) now() int64 { return time.Now().Unix() + k.skew.Load() }

// count is the number of entries held (tests).
func (k *Cache) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for e := k.lru.next; e != &k.lru; e = e.next {
		n++
	}
	return n
}

// cacheEntry is one stored response.
type cacheEntry struct {
	key     [20]byte
	sec     [secKeyLen]byte // secondary key (vary), zero when none
	secSig  uint32          // which request headers the secondary key covers
	head    []byte          // status line and header lines, as stored
	body    []byte          // the payload, without chunk framing
	chunked bool            // the server chunked it: so is the cached answer

	expire       int64 // unix seconds
	validated    int64 // when it was stored (latest_validation)
	age          int64 // the server's Age, added to ours
	lastModified int64 // Last-Modified, else Date, else storage time
	etag         []byte
	blocks       int

	prev, next *cacheEntry // recency list
	dup        *cacheEntry // the next variant of the same primary key
	live       bool        // in the index (not evicted, replaced or expired)
}

// cacheEntryOverhead is what HAProxy's struct cache_entry adds to each
// object's size before it is counted in blocks.
const cacheEntryOverhead = 96

func newCache(c *config.Cache) *Cache {
	k := &Cache{
		Name: c.Name, maxAge: int64(c.MaxAge), maxObj: c.MaxObjectSize,
		maxBlocks: c.TotalMaxSize * 1024 * 1024 / config.CacheBlockSize,
		vary:      c.ProcessVary, maxSec: c.MaxSecondaryEntries,
		entries: map[[20]byte]*cacheEntry{},
	}
	if k.maxObj == 0 {
		k.maxObj = k.maxBlocks * config.CacheBlockSize >> 8
	}
	k.lru.prev, k.lru.next = &k.lru, &k.lru
	return k
}

// cachesOf builds the engine's caches from the configuration's sections.
func cachesOf(c *config.Config) map[string]*Cache {
	if len(c.Caches) == 0 {
		return nil
	}
	m := make(map[string]*Cache, len(c.Caches))
	for _, cc := range c.Caches {
		m[cc.Name] = newCache(cc)
	}
	return m
}

func blocksFor(n int) int {
	return (n + cacheEntryOverhead + config.CacheBlockSize - 1) / config.CacheBlockSize
}

// lookup returns the fresh entry for key whose secondary key the request
// matches (sec is computed only when an entry varies, by secFor), or nil.
// Expired entries met on the way are dropped, as HAProxy's entry_exist
// does. It allocates nothing.
func (k *Cache) lookup(key *[20]byte, secFor func(sig uint32) ([secKeyLen]byte, bool)) *cacheEntry {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	first := k.entries[*key]
	if first == nil {
		return nil
	}
	if first.secSig == 0 {
		if first.expire <= now {
			k.unlinkLocked(first)
			return nil
		}
		k.touchLocked(first)
		return first
	}
	sec, ok := secFor(first.secSig)
	if !ok {
		return nil
	}
	for e := first; e != nil; e = e.dup {
		if e.expire > now && secMatch(&e.sec, &sec) {
			k.touchLocked(e)
			return e
		}
	}
	return nil
}

// touchLocked makes e the most recently used entry.
func (k *Cache) touchLocked(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = k.lru.prev, &k.lru
	k.lru.prev.next = e
	k.lru.prev = e
}

// unlinkLocked removes e from the index and the recency list.
func (k *Cache) unlinkLocked(e *cacheEntry) {
	if !e.live {
		return
	}
	e.live = false
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	k.used -= e.blocks
	first := k.entries[e.key]
	if first == e {
		if e.dup == nil {
			delete(k.entries, e.key)
		} else {
			k.entries[e.key] = e.dup
		}
		return
	}
	for p := first; p != nil; p = p.dup {
		if p.dup == e {
			p.dup = e.dup
			return
		}
	}
}

// insert stores e, replacing the entry of the same keys and evicting the
// least recently used ones until it fits. It reports false when it was
// not stored (too many variants of the key, or bigger than the cache).
func (k *Cache) insert(e *cacheEntry) bool {
	e.blocks = blocksFor(len(e.head) + len(e.body))
	if e.blocks > k.maxBlocks {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	n := 0
	for p := k.entries[e.key]; p != nil; {
		next := p.dup
		switch {
		case p.expire <= now, p.secSig == e.secSig && secMatch(&p.sec, &e.sec), (p.secSig == 0) != (e.secSig == 0):
			k.unlinkLocked(p) // expired, the same variant, or vary changed
		default:
			n++
		}
		p = next
	}
	if e.secSig != 0 && n >= k.maxSec {
		return false // HAProxy: max-secondary-entries reached
	}
	for k.used+e.blocks > k.maxBlocks && k.lru.next != &k.lru {
		k.unlinkLocked(k.lru.next)
	}
	e.live = true
	e.dup = k.entries[e.key]
	k.entries[e.key] = e
	e.prev, e.next = k.lru.prev, &k.lru
	k.lru.prev.next = e
	k.lru.prev = e
	k.used += e.blocks
	return true
}

// drop removes the entry of key (every variant): a successful unsafe
// request on the resource invalidates it (RFC 7234 §4.4, as HAProxy).
func (k *Cache) drop(key *[20]byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for e := k.entries[*key]; e != nil; e = k.entries[*key] {
		k.unlinkLocked(e)
	}
}

// cacheSnapshot is one entry as `show cache` lists it.
type cacheSnapshot struct {
	e      *cacheEntry
	hash   uint32
	sec    [secKeyLen]byte
	size   int
	blocks int
	expire int64
}

// snapshot lists the fresh entries by hash (dropping expired ones, as
// HAProxy's show cache does) and the blocks still available.
func (k *Cache) snapshot() (avail int, list []cacheSnapshot) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	for e := k.lru.next; e != &k.lru; {
		next := e.next
		if e.expire <= now {
			k.unlinkLocked(e)
		} else {
			list = append(list, cacheSnapshot{e: e, hash: binary.LittleEndian.Uint32(e.key[:4]), sec: e.sec,
				size: cacheEntryOverhead + len(e.head) + len(e.body), blocks: e.blocks, expire: e.expire - now})
		}
		e = next
	}
	return k.maxBlocks - k.used, list
}
