package sticktable

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Filter is one `data.TYPE OP VALUE` condition of `show table`/`clear table`.
type Filter struct {
	Type  DataType
	Op    string // eq ne le ge lt gt
	Value int64
}

// Query is what follows the table name in `show|clear table NAME ...`:
// either a key or up to four data filters (HAProxy's STKTABLE_FILTER_LEN).
type Query struct {
	Key     []byte
	HasKey  bool
	Filters []Filter
}

const maxFilters = 4

// ParseQuery reads the words after the table's name with HAProxy's
// messages; t gives the key type and the stored data types.
func (t *Table) ParseQuery(words []string) (Query, error) {
	var q Query
	if len(words) == 0 {
		return q, nil
	}
	if words[0] == "key" {
		if len(words) < 2 {
			return q, errors.New("Key value expected")
		}
		k, err := t.ParseKey(words[1])
		if err != nil {
			return q, err
		}
		q.Key, q.HasKey = k, true
		return q, nil
	}
	if !strings.HasPrefix(words[0], "data.") {
		return q, errors.New(`Optional argument only supports "data.<store_data_type>" <operator> <value> and key <key>`)
	}
	for i := 0; i < len(words); i += 3 {
		if len(q.Filters) == maxFilters {
			return q, fmt.Errorf("Detected extra data in filter, %dth word of input, after '%s'", 3+i+1, words[i-1])
		}
		f, err := t.parseFilter(words[i:], len(q.Filters)+1)
		if err != nil {
			return q, err
		}
		q.Filters = append(q.Filters, f)
	}
	return q, nil
}

func (t *Table) parseFilter(w []string, n int) (Filter, error) {
	var f Filter
	name, ok := strings.CutPrefix(w[0], "data.")
	d, known := LookupType(name)
	if !ok || !known {
		return f, fmt.Errorf("Filter entry #%d: Unknown data type", n)
	}
	if !t.Stores(d) {
		return f, fmt.Errorf("Filter entry #%d: Data type not stored in this table", n)
	}
	if len(w) < 2 || !validOp(w[1]) {
		return f, fmt.Errorf(`Filter entry #%d: Require and operator among "eq", "ne", "le", "ge", "lt", "gt"`, n)
	}
	if len(w) < 3 {
		return f, fmt.Errorf("Filter entry #%d: Require a valid integer value to compare against", n)
	}
	v, err := strconv.ParseInt(w[2], 10, 64)
	if err != nil {
		return f, fmt.Errorf("Filter entry #%d: Require a valid integer value to compare against", n)
	}
	return Filter{Type: d, Op: w[1], Value: v}, nil
}

func validOp(op string) bool {
	switch op {
	case "eq", "ne", "le", "ge", "lt", "gt":
		return true
	}
	return false
}

func (f *Filter) match(v int64) bool {
	switch f.Op {
	case "eq":
		return v == f.Value
	case "ne":
		return v != f.Value
	case "le":
		return v <= f.Value
	case "ge":
		return v >= f.Value
	case "lt":
		return v < f.Value
	}
	return v > f.Value
}

// ParseKey reads a key as the admin socket writes it.
func (t *Table) ParseKey(s string) ([]byte, error) {
	switch t.Def.Key {
	case KeyIP, KeyIPv6:
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, errors.New("Invalid key")
		}
		k, ok := t.KeyOfAddr(a, make([]byte, 0, 16))
		if !ok {
			return nil, errors.New("Invalid key")
		}
		return k, nil
	case KeyInteger:
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, errors.New("Invalid key")
		}
		return t.KeyOfInt(int64(n), nil), nil
	case KeyString:
		return t.KeyOfString([]byte(s)), nil
	}
	return nil, errors.New("Showing keys from tables of type other than ip, ipv6, string and integer is not supported")
}

// formatKey writes a key as `show table` does.
func (t *Table) formatKey(k string) string {
	switch t.Def.Key {
	case KeyIP, KeyIPv6:
		if a, ok := netip.AddrFromSlice([]byte(k)); ok {
			return a.String()
		}
	case KeyInteger:
		if len(k) == 4 {
			return strconv.FormatUint(uint64(k[0])<<24|uint64(k[1])<<16|uint64(k[2])<<8|uint64(k[3]), 10)
		}
	case KeyBinary:
		return fmt.Sprintf("%X", k)
	}
	return k
}

// WriteHead writes the `# table:` line of `show table`.
func (t *Table) WriteHead(w io.Writer) {
	fmt.Fprintf(w, "# table: %s, type: %s, size:%d, used:%d\n", t.Def.Name, t.Def.Key, t.Def.Size, t.Len())
}

// Dump writes the entries matching q, in key order as HAProxy's tree
// walks them, one line each in HAProxy's format.
func (t *Table) Dump(w io.Writer, q Query) {
	t.Sweep()
	t.WriteHead(w)
	for _, e := range t.matching(q) {
		t.writeEntry(w, e)
	}
}

// ClearMatching removes the unused entries matching q (clear table);
// without a query every unused entry. A key in use is an error.
func (t *Table) ClearMatching(q Query) error {
	if q.HasKey {
		if !t.Remove(q.Key) {
			return errors.New("Entry currently in use, cannot remove")
		}
		return nil
	}
	for _, e := range t.matching(q) {
		t.Remove([]byte(e.key))
	}
	return nil
}

func (t *Table) matching(q Query) []*Entry {
	if q.HasKey {
		if e := t.Lookup(q.Key); e != nil {
			return []*Entry{e}
		}
		return nil
	}
	var out []*Entry
	for i := range t.st.shards {
		sh := &t.st.shards[i]
		sh.mu.Lock()
		for _, e := range sh.m {
			out = append(out, e)
		}
		sh.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	if len(q.Filters) == 0 {
		return out
	}
	kept := out[:0]
	for _, e := range out {
		if t.filtersMatch(e, q.Filters) {
			kept = append(kept, e)
		}
	}
	return kept
}

func (t *Table) filtersMatch(e *Entry, fs []Filter) bool {
	for i := range fs {
		v, _ := t.Read(e, fs[i].Type)
		if !fs[i].match(t.signed(fs[i].Type, v)) {
			return false
		}
	}
	return true
}

// signed reads server_id as the signed value HAProxy stores.
func (t *Table) signed(d DataType, v uint64) int64 {
	if d == ServerID {
		return int64(int32(v))
	}
	return int64(v)
}

func (t *Table) writeEntry(w io.Writer, e *Entry) {
	now := t.clock()
	var b bytes.Buffer
	e.sh.mu.Lock()
	exp := int64(0)
	if e.exp != 0 {
		exp = max(e.exp-now, 0)
	}
	fmt.Fprintf(&b, "%p: key=%s use=%d exp=%d", e, t.formatKey(e.key), e.refs, exp)
	for d := DataType(0); d < numTypes; d++ {
		i := t.slot[d]
		if i < 0 {
			continue
		}
		if d.IsRate() {
			fmt.Fprintf(&b, " %s(%d)=%d", d, t.period[d], e.frq[i].Read(now, t.period[d]))
			continue
		}
		fmt.Fprintf(&b, " %s=%d", d, t.signed(d, e.vals[i]))
	}
	e.sh.mu.Unlock()
	b.WriteByte('\n')
	w.Write(b.Bytes())
}

// SetData stores `set table NAME key K data.TYPE V ...` values; a rate is
// set as HAProxy sets it: V events in a period starting now.
func (t *Table) SetData(key []byte, words []string) error {
	if len(words)%2 != 0 {
		return errors.New(`"data.<type>" followed by a value expected`)
	}
	type set struct {
		d DataType
		v int64
	}
	var sets []set
	for i := 0; i < len(words); i += 2 {
		name, ok := strings.CutPrefix(words[i], "data.")
		if !ok {
			return errors.New(`"data.<type>" followed by a value expected`)
		}
		d, known := LookupType(name)
		if !known {
			return errors.New("Unknown data type")
		}
		if !t.Stores(d) {
			return errors.New("Data type not stored in this table")
		}
		v, err := strconv.ParseInt(words[i+1], 10, 64)
		if err != nil {
			return errors.New("Require a valid integer value to store")
		}
		sets = append(sets, set{d, v})
	}
	e := t.Get(key)
	if e == nil {
		return errors.New("Unable to allocate a new entry")
	}
	now := t.clock()
	e.sh.mu.Lock()
	defer e.sh.mu.Unlock()
	for _, s := range sets {
		i := t.slot[s.d]
		if s.d.IsRate() {
			e.frq[i] = Freq{tick: now, cur: uint64(s.v), everUpdate: true}
			continue
		}
		e.vals[i] = uint64(s.v)
	}
	t.touchLocked(e, now)
	return nil
}
