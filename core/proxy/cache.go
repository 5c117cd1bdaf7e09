package proxy

import (
	"crypto/sha1"
	"errors"
	"hash"
	"net/http"
	"strconv"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/httpx"
)

// `http-request cache-use NAME` and `http-response cache-store NAME`
// (HAProxy 2.6 src/cache.c, http_ana.c's cacheability checks). cache-use
// computes the request's key and, on a fresh hit, marks the transaction to
// be answered from the cache instead of a server (cache_serve.go);
// cache-store decides from the response head whether to keep it, and the
// body relay fills the entry (cacheTee), stored when the response ended.

func init() {
	registerActor(buildCacheActor, "cache-use", "cache-store")
}

// cacheActor is one cache-use or cache-store rule; its cache is bound
// when the engine's configuration is built (bindCaches).
type cacheActor struct {
	name  string
	store bool
	front bool // a frontend's rule: its lookups count on the frontend
	c     *Cache
}

func buildCacheActor(r *config.HTTPRule) (Actor, error) {
	if r.Name == "" {
		return nil, errors.New("needs a cache name")
	}
	return &cacheActor{name: r.Name, store: r.Action == "cache-store"}, nil
}

// bindCaches points every cache rule at its cache; a name without a
// section is refused (the configuration layer reports it with its line).
func bindCaches(out *Config) error {
	bind := func(rules []*HTTPRule, front bool) error {
		for _, r := range rules {
			a, ok := r.Actor.(*cacheActor)
			if !ok {
				continue
			}
			a.front = front
			if a.c = out.Caches[a.name]; a.c == nil {
				return errors.New("unable to find the cache '" + a.name + "'")
			}
		}
		return nil
	}
	for _, f := range out.Frontends {
		if err := errors.Join(bind(f.HTTPRequest, true), bind(f.HTTPResponse, true)); err != nil {
			return err
		}
	}
	for _, b := range out.Backends {
		if err := errors.Join(bind(b.HTTPRequest, false), bind(b.HTTPResponse, false)); err != nil {
			return err
		}
	}
	return nil
}

// cacheTx is a transaction's cache state (HAProxy's txn cache flags).
type cacheTx struct {
	hasKey  bool
	key     [20]byte
	ignore  bool // TX_CACHE_IGNORE: neither served from nor stored
	noStore bool // TX_CACHEABLE cleared by the request (no-store, Authorization)
	hasSec  bool
	sec     [secKeyLen]byte
	hit     *cacheEntry // the entry to answer with
	hitBy   *Cache
	served  bool            // the answer came from the cache
	pend    []*cachePending // the responses being stored (one per cache-store)
	h       hash.Hash       // SHA-1, kept with the session
}

func (t *cacheTx) reset() {
	h, p := t.h, t.pend
	clear(p)
	*t = cacheTx{h: h, pend: p[:0]}
}

// Do runs the rule.
func (a *cacheActor) Do(s *session, resp bool) Verdict {
	if a.store {
		if resp {
			s.cacheStore(a.c, a.front)
		}
	} else if !resp {
		s.cacheUse(a.c, a.meters(s))
	}
	return Verdict{}
}

// meters are the counters of the proxy whose rule this is (HAProxy's
// fe_counters or be_counters).
func (a *cacheActor) meters(s *session) *core.Meters {
	if !a.front {
		if b := s.e.byName[s.rec.Backend]; b != nil {
			return &b.Meters
		}
	}
	return &s.f.Meters
}

var httpsPrefix = []byte("https://")

// cacheUse is http_action_req_cache_use: the key of every request (an
// unsafe one invalidates it when it succeeds), a lookup for GET and HEAD.
func (s *session) cacheUse(c *Cache, m *core.Meters) {
	t := &s.cache
	r := &s.req
	meth := s.view.Method()
	get, head := string(meth) == "GET", string(meth) == "HEAD"
	if (r.Minor < 1 && !s.h2) || (!get && !head) {
		t.ignore = true
	} else {
		s.cacheRequestChecks()
	}
	if !s.cacheKey() {
		return
	}
	if t.ignore || r.RequestBody() != httpx.BodyNone {
		return
	}
	m.CacheLookups.Add(1)
	e := c.lookup(&t.key, func(sig uint32) ([secKeyLen]byte, bool) {
		k, ok := buildSecKey(&s.view, sig)
		reduceSecKey(&k, sig)
		return k, ok
	})
	if e != nil {
		t.hit, t.hitBy = e, c
		m.CacheHits.Add(1)
		return
	}
	if c.vary {
		t.sec, t.hasSec = buildSecKey(&s.view, ^uint32(0))
	}
}

// cacheKey is sha1_hosturi: "https://" + Host + URI for an origin-form
// target, the absolute URI as it is otherwise. It allocates nothing once
// the session's hash exists.
func (s *session) cacheKey() bool {
	t := &s.cache
	uri := s.view.URI()
	if len(uri) == 0 {
		return false
	}
	if t.h == nil {
		t.h = sha1.New()
	}
	t.h.Reset()
	if uri[0] == '/' || uri[0] == '*' {
		host, ok := s.view.Header("host")
		if !ok {
			return false
		}
		t.h.Write(httpsPrefix)
		t.h.Write(host)
	}
	t.h.Write(uri)
	t.h.Sum(t.key[:0])
	t.hasKey = true
	return true
}

// cacheRequestChecks is http_check_request_for_cacheability.
func (s *session) cacheRequestChecks() {
	t := &s.cache
	pragma, cc := false, false
	for i, n := 0, s.view.NumHeaders(); i < n; i++ {
		name, val := s.view.HeaderAt(i)
		switch {
		case httpx.EqualFold(name, "authorization"):
			t.noStore, t.ignore = true, true
		case httpx.EqualFold(name, "pragma"):
			pragma = pragma || httpx.EqualFold(val, "no-cache")
		case httpx.EqualFold(name, "cache-control"):
			cc = true
			for rest := val; rest != nil; {
				var e []byte
				e, rest = httpx.NextElement(rest)
				switch {
				case hasPrefixFold(e, "max-age"), hasPrefixFold(e, "no-cache"), hasPrefixFold(e, "max-stale"), hasPrefixFold(e, "min-fresh"):
					t.ignore = true
				case hasPrefixFold(e, "no-store"):
					t.noStore = true
				}
			}
		}
	}
	if !cc && pragma {
		t.ignore = true
	}
}

// cachePending is a response being stored: its head is taken, its body
// grows as it is relayed.
type cachePending struct {
	c      *Cache
	e      *cacheEntry
	dc     dechunk
	want   int64 // the Content-Length, -1 when the body is not so framed
	front  bool  // a frontend's cache-store
	failed bool
	done   bool // stored (or abandoned)
}

// cacheStoring reports whether the response body must pass through
// cacheTee (so it is never spliced around it).
func (s *session) cacheStoring() bool {
	for _, pd := range s.cache.pend {
		if !pd.done {
			return true
		}
	}
	return false
}

// cacheStore is http_action_store_cache on the response head as the
// rules before it left it.
func (s *session) cacheStore(c *Cache, front bool) {
	t := &s.cache
	if t.served || (s.req.Minor < 1 && !s.h2) {
		return
	}
	for _, pd := range t.pend {
		if pd.c == c {
			return // one store per cache
		}
	}
	status := int(s.rec.Status)
	if st := s.scr.status; st != 0 {
		status = st
	}
	if m := s.view.Method(); string(m) != "GET" {
		if t.hasKey && status >= 200 && status < 400 && !safeMethod(m) {
			c.drop(&t.key) // RFC 7234 §4.4: an unsafe method invalidates
		}
		return
	}
	if !t.hasKey || status != 200 {
		return
	}
	h := (*respHead)(s)
	if s.resp.ContentLength >= 0 && s.x.rkind == httpx.BodyLength && int64(s.resp.HeadLen)+s.resp.ContentLength > int64(c.maxObj) {
		return
	}
	e := &cacheEntry{key: t.key}
	if c.vary {
		sig, ok := varySignature(h)
		if !ok {
			return
		}
		if sig != 0 {
			if !t.hasSec {
				return
			}
			e.sec, e.secSig = t.sec, sig
			reduceSecKey(&e.sec, sig)
		}
	} else if _, vary := headerIn(h, "vary"); vary {
		return
	}
	if t.noStore || t.ignore || !cacheableResponse(h) {
		return
	}
	if !s.cacheHead(c, e, h) {
		return
	}
	pd := &cachePending{c: c, e: e, want: -1, front: front}
	if s.x.rkind == httpx.BodyLength {
		pd.want = s.resp.ContentLength
	} else if s.x.rkind == httpx.BodyNone {
		pd.want = 0
	}
	t.pend = append(t.pend, pd)
}

func safeMethod(m []byte) bool {
	switch string(m) {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

// headerIn returns the first value of the named field.
func headerIn(h headerSource, name string) ([]byte, bool) {
	for i, n := 0, h.NumHeaders(); i < n; i++ {
		k, v := h.HeaderAt(i)
		if httpx.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// ccElems walks the elements of every Cache-Control field in order, as
// both cacheableResponse and maxAge read them. A struct, not a callback,
// so the walk stays on the stack.
type ccElems struct {
	h    headerSource
	i, n int
	rest []byte // what is left of the current field; nil: go to the next
}

func cacheControlElems(h headerSource) ccElems { return ccElems{h: h, n: h.NumHeaders()} }

// next returns the next element; false once every field is read.
func (c *ccElems) next() ([]byte, bool) {
	for c.rest == nil {
		if c.i >= c.n {
			return nil, false
		}
		name, val := c.h.HeaderAt(c.i)
		c.i++
		if httpx.EqualFold(name, "cache-control") {
			c.rest = val
		}
	}
	var e []byte
	e, c.rest = httpx.NextElement(c.rest)
	return e, true
}

// cacheableResponse is http_check_response_for_cacheability for a 200 to
// a GET (TX_CACHEABLE and TX_CACHE_COOK start set): what Pragma and
// Cache-Control allow, and an explicit expiry or a validator.
func cacheableResponse(h headerSource) bool {
	cacheable, cook := true, true
	fresh := false
	if v, ok := headerIn(h, "pragma"); ok && httpx.EqualFold(v, "no-cache") {
		return false
	}
	for cc := cacheControlElems(h); ; {
		e, more := cc.next()
		if !more {
			break
		}
		switch {
		case httpx.EqualFold(e, "public"):
			cacheable, cook = true, true
		case httpx.EqualFold(e, "private"), httpx.EqualFold(e, "no-cache"), httpx.EqualFold(e, "no-store"),
			httpx.EqualFold(e, "max-age=0"), httpx.EqualFold(e, "s-maxage=0"):
			cacheable, cook = false, false
		case hasPrefixFold(e, `no-cache="set-cookie`):
			cook = false
		case hasPrefixFold(e, "s-maxage"), hasPrefixFold(e, "max-age"):
			fresh = true
		}
	}
	if !cacheable || !cook {
		return false
	}
	if !fresh {
		_, fresh = headerIn(h, "expires")
	}
	if !fresh {
		_, etag := headerIn(h, "etag")
		_, lm := headerIn(h, "last-modified")
		fresh = etag || lm
	}
	return fresh
}

// maxAge is http_calc_maxage: s-maxage, then max-age, then Expires -
// now, each capped by the cache's max-age; true is the response's own.
// ok is false for a malformed directive (HAProxy then stores an entry
// already expired: varde does not store it).
func maxAge(h headerSource, c *Cache, now int64) (eff, true_ int64, ok bool) {
	smax, max := int64(-1), int64(-1)
	for cc := cacheControlElems(h); ; {
		e, more := cc.next()
		if !more {
			break
		}
		if v, found := directiveValue(e, "s-maxage"); found {
			if smax, ok = leadingInt(v); !ok {
				return 0, 0, false
			}
		}
		if v, found := directiveValue(e, "max-age"); found {
			if max, ok = leadingInt(v); !ok {
				return 0, 0, false
			}
		}
	}
	expires := int64(-1)
	if max == -1 && smax == -1 {
		if v, found := headerIn(h, "expires"); found {
			expires = 0 // an invalid date is in the past (RFC 7234 §5.3)
			if t, err := http.ParseTime(string(v)); err == nil && t.Unix() >= now {
				expires = t.Unix() - now
			}
		}
	}
	switch {
	case smax > 0:
		return min(smax, c.maxAge), smax, true
	case max > 0:
		return min(max, c.maxAge), max, true
	case expires >= 0:
		return min(expires, c.maxAge), expires, true
	}
	return c.maxAge, 0, true
}

// directiveValue is HAProxy's directive_value: the text after "word=".
func directiveValue(e []byte, word string) ([]byte, bool) {
	if len(e) <= len(word) || !hasPrefixFold(e, word) || e[len(word)] != '=' {
		return nil, false
	}
	return e[len(word)+1:], true
}

// leadingInt is strtol on an optionally quoted value: digits are needed,
// a negative value is refused.
func leadingInt(v []byte) (int64, bool) {
	if len(v) > 0 && v[0] == '"' {
		v = v[1:]
	}
	neg := len(v) > 0 && v[0] == '-'
	if neg || (len(v) > 0 && v[0] == '+') {
		v = v[1:]
	}
	var n int64
	i := 0
	for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		if n < 1<<40 {
			n = n*10 + int64(v[i]-'0')
		}
	}
	if i == 0 || (neg && n > 0) {
		return 0, false
	}
	return n, true
}

// cacheEntryMaxAge caps Age values, as HAProxy's CACHE_ENTRY_MAX_AGE.
const cacheEntryMaxAge = 2147483648

// cacheHead fills e from the response head: expiry, the server's Age
// (removed from the stored head), validators and the head's bytes.
func (s *session) cacheHead(c *Cache, e *cacheEntry, h *respHead) bool {
	now := c.now()
	eff, trueAge, ok := maxAge(h, c, now)
	if !ok || eff <= 0 {
		return false
	}
	if v, found := headerIn(h, "age"); found {
		a, err := strconv.ParseInt(string(httpx.TrimOWS(v)), 10, 64)
		if err != nil || a <= 0 {
			return false
		}
		e.age = min(a, cacheEntryMaxAge)
		if e.age > trueAge {
			return false // already stale
		}
		// HAProxy takes the server's Age out of the response it relays
		// too: the client of this response does not see it either.
		s.msgEdits(true).del(nameMatch{name: "age"})
	}
	e.lastModified = now
	if v, found := headerIn(h, "last-modified"); found {
		if t, err := http.ParseTime(string(v)); err == nil {
			e.lastModified = t.Unix()
		}
	} else if v, found := headerIn(h, "date"); found {
		if t, err := http.ParseTime(string(v)); err == nil {
			e.lastModified = t.Unix()
		}
	}
	if c.vary && e.secSig != 0 {
		bm, ok := responseEncoding(h)
		if !ok {
			return false
		}
		putU32(e.sec[0:4], bm)
	}
	if v, found := lastHeader(h, "etag"); found {
		e.etag = append([]byte(nil), v...)
	}
	e.head = s.cacheHeadBytes(h)
	e.chunked = s.x.rkind == httpx.BodyChunked
	if len(e.head) > s.e.limits.MaxHead || len(e.head) > c.maxObj {
		return false
	}
	e.validated, e.expire = now, now+eff
	return true
}

// lastHeader returns the last value of the named field.
func lastHeader(h headerSource, name string) (v []byte, ok bool) {
	for i, n := 0, h.NumHeaders(); i < n; i++ {
		k, val := h.HeaderAt(i)
		if httpx.EqualFold(k, name) {
			v, ok = val, true
		}
	}
	return v, ok
}

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// cacheHeadBytes renders the stored head: the status line, then the
// fields the client would get as the rules so far left them, without the
// hop-by-hop ones (Transfer-Encoding excepted) and Age.
func (s *session) cacheHeadBytes(h *respHead) []byte {
	resp := &s.resp
	o := make([]byte, 0, resp.HeadLen+64)
	o = s.appendStatusLine(o)
	e := &s.rspE
	for i, n := 0, h.NumHeaders(); i < n; i++ {
		orig := i
		if e.on {
			orig = int(e.f[i].orig)
		}
		name, val := h.HeaderAt(i)
		te := httpx.EqualFold(name, "transfer-encoding") // kept in place: the answer is chunked too
		if orig >= 0 && !te && !resp.Forwardable(orig, false) {
			continue
		}
		if httpx.EqualFold(name, "age") || httpx.EqualFold(name, "connection") {
			continue
		}
		o = httpx.AppendField(o, name, val)
	}
	return o
}

// cacheAfterComp abandons the stores a frontend's compression comes
// before: HAProxy runs a frontend's filters before a backend's, and its
// cache refuses a response the compression already took
// (cache_store_post_analyze). A cache in the frontend, or in the same
// listen section, comes first and stores the response uncompressed.
func (s *session) cacheAfterComp(x *xchg) {
	if !s.comp.on || s.f.cfg.comp == nil || (x.b.cfg.Listen && x.b.Name == s.f.Name) {
		return
	}
	for _, pd := range s.cache.pend {
		if !pd.front && !pd.done {
			pd.failed, pd.done, pd.e.body = true, true, nil
		}
	}
}

// cacheTee adds relayed body bytes (raw: as framed on the wire) to the
// entries being stored; too big an object is abandoned. An entry is
// stored as soon as its body is whole, before its last bytes are written
// to the client, so the client's next request finds it (as HAProxy's
// cache completes an entry while it forwards the end of the message).
func (s *session) cacheTee(p []byte, raw bool) {
	for _, pd := range s.cache.pend {
		if !pd.done {
			pd.tee(p, raw)
		}
	}
}

func (pd *cachePending) tee(p []byte, raw bool) {
	end := false
	for len(p) > 0 && !end {
		data := p
		p = nil
		if raw && pd.e.chunked {
			data, p, end = pd.dc.next(data)
		}
		pd.e.body = append(pd.e.body, data...)
	}
	switch {
	case len(pd.e.head)+len(pd.e.body) > pd.c.maxObj:
		pd.failed, pd.done, pd.e.body = true, true, nil
	case end || (pd.want >= 0 && int64(len(pd.e.body)) >= pd.want):
		pd.store()
	}
}

func (pd *cachePending) store() {
	pd.done = true
	if !pd.failed {
		pd.c.insert(pd.e)
	}
}

// cacheCommit stores the entries whose body was relayed whole and not
// stored yet (a body delimited by the close, a compressed one).
func (s *session) cacheCommit() {
	for _, pd := range s.cache.pend {
		if !pd.done {
			pd.store()
		}
	}
}
