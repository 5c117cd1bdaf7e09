package sample

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Pattern references, HAProxy's pat_ref: one shared in-memory list per map
// or ACL file per configuration generation, used by every converter and ACL
// naming that file, and changed at run time by the admin socket (add map,
// del acl ...) and the set-map/add-acl rule actions.
//
// The request path never locks: each user (a map converter, an ACL) holds
// an atomic pointer to its own compiled, immutable view of the entries. A
// change builds every user's new view first and publishes them only when
// all of them accept the entries (a map_ip user refuses a key that is not
// an address), so a change applies to all users or to none. Changes to
// one file are serialised by its own mutex (set-map runs per request, so
// files do not wait for each other). Adding a new key (set-map, add map,
// add-acl) appends: users that can (map_str) extend their view in O(1)
// amortised, the others rebuild theirs; a change that sets an existing
// key's value to the value it has does nothing.

// PatEntry is one line of a pattern file: a key and, for maps, a value.
type PatEntry struct {
	ID    uint64 // shown as a pointer by `show map FILE`, usable as #0x...
	Key   string
	Value string
	Line  int // in the file; 0 for an entry added at run time
}

// PatLineError is a user's refusal of an entry read from the file: Attach
// names the file and line, as HAProxy ("at line 2 of file 'hosts.map'").
type PatLineError struct {
	Line int
	Err  error
}

func (e *PatLineError) Error() string { return e.Err.Error() }
func (e *PatLineError) Unwrap() error { return e.Err }

// LineError wraps err with e's line when e was read from the file.
func LineError(e *PatEntry, err error) error {
	if e.Line == 0 {
		return err
	}
	return &PatLineError{Line: e.Line, Err: err}
}

// PatUser is a converter or ACL built on a PatRef.
type PatUser interface {
	// Rebuild compiles entries into a new view and returns the function
	// that publishes it; an error refuses the change.
	Rebuild(entries []PatEntry) (commit func(), err error)
	// Probe reports how the user matches key, for `get map|acl`.
	Probe(key string) PatProbe
}

// PatProbe is one line of `get map` / `get acl`.
type PatProbe struct {
	Match string // str, beg, sub, ip, int, reg, regm ...
	Fold  bool   // case-insensitive
	Tree  bool   // indexed in a tree (idx=tree) rather than a list
	Found bool
	Key   string // the matching entry's key
	// Value and VType are the map value and its sample type; HasValue is
	// false for ACL users (value=none).
	Value    string
	VType    string
	HasValue bool
	ACL      bool
	// Group names the users that share one answer ("" for none).
	Group string
}

// PatRef is the shared list of one file.
type PatRef struct {
	ID    int
	File  string
	IsMap bool // two columns (map) or one (acl -f)
	// HasACL: an ACL reads the file (`show acl` lists it, as HAProxy).
	HasACL bool
	// Used lists who uses the file, "map" or "acl", in configuration order.
	Used    []string
	entries atomic.Pointer[[]PatEntry]
	// mu serialises changes to this file; it guards what follows.
	mu    sync.Mutex
	users []PatUser
	// keys indexes the current entries by key (built on first use, nil
	// after a change that moves entries), for set-map and add-acl.
	keys map[string][]int
	// Versions (prepare/commit map|acl): entries of versions other than
	// curr wait in pending until committed.
	curr, next uint32
	pending    map[uint32][]PatEntry
}

// Entries returns the current entries; callers must not modify them.
func (r *PatRef) Entries() []PatEntry {
	if p := r.entries.Load(); p != nil {
		return *p
	}
	return nil
}

// Users returns the converters and ACLs sharing this file.
func (r *PatRef) Users() []PatUser {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]PatUser(nil), r.users...)
}

// PatRefs is one generation's set of pattern references.
type PatRefs struct {
	// Dir is the directory relative file names are read from (HAProxy's
	// default-path; config.Global.DefaultPathDir), "" for the directory
	// varde starts in. A reference keeps the name as written.
	Dir    string
	mu     sync.Mutex
	byFile map[string]*PatRef
	list   []*PatRef
	nextID int
}

// NewPatRefs returns an empty set.
func NewPatRefs() *PatRefs { return &PatRefs{byFile: map[string]*PatRef{}} }

// List returns the references in creation order.
func (s *PatRefs) List() []*PatRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*PatRef(nil), s.list...)
}

// Lookup finds a reference by file name or by "#ID"; nil in a nil set.
func (s *PatRefs) Lookup(name string) *PatRef {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.HasPrefix(name, "#") {
		id, err := strconv.Atoi(name[1:])
		if err != nil {
			return nil
		}
		for _, r := range s.list {
			if r.ID == id {
				return r
			}
		}
		return nil
	}
	return s.byFile[name]
}

// ReserveID takes an id without a file, as HAProxy numbers the anonymous
// pattern list of every ACL line, so that #ID matches HAProxy's.
func (s *PatRefs) ReserveID() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.nextID++
	s.mu.Unlock()
}

// Attach loads file (or finds it already loaded in this generation) and
// registers u as a user; u.Rebuild is called with the entries. usedBy is
// "map" (a converter), "acl" (acl -f) or "acl -M" (acl -M -f, which HAProxy
// lists as a map use). A private set is used when s is nil (an expression
// compiled outside a generation).
func (s *PatRefs) Attach(file string, isMap bool, usedBy string, u PatUser) (*PatRef, error) {
	if s == nil {
		s = NewPatRefs()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.byFile[file]
	if r == nil {
		entries, err := ReadPatFile(s.path(file), isMap)
		if err != nil {
			return nil, err
		}
		r = &PatRef{ID: s.nextID, File: file, IsMap: isMap}
		r.entries.Store(&entries)
		s.nextID++
		s.byFile[file] = r
		s.list = append(s.list, r)
	} else if r.IsMap != isMap && !isMap {
		// HAProxy: an acl -f file (one column) cannot be read as a map;
		// `acl ... -M -f FILE` reads a map file as an ACL pattern list.
		return nil, fmt.Errorf("the file %q is already used as a map (two columns) and cannot be used as a one-column ACL file (hint: add -M to the acl)", file)
	} else if r.IsMap != isMap {
		return nil, fmt.Errorf("the file %q is already used as one column file and cannot be used as a two column file (hint: add -M to the acl that reads it)", file)
	}
	commit, err := u.Rebuild(r.Entries())
	var le *PatLineError
	if errors.As(err, &le) {
		return nil, fmt.Errorf("%s:%d: %w", file, le.Line, le.Err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	commit()
	r.mu.Lock()
	r.users = append(r.users, u)
	if strings.HasPrefix(usedBy, "acl") {
		r.HasACL = true
	}
	r.Used = append(r.Used, strings.TrimSuffix(usedBy, "acl -M")+map[bool]string{true: "map"}[usedBy == "acl -M"])
	r.mu.Unlock()
	return r, nil
}

// ErrMapNotLoaded refuses a map file named by an expression compiled
// while traffic flows that the running configuration did not load: files
// are read at start-up only, never on the admin socket's or a script's
// behalf (that would read any file varde can read).
type ErrMapNotLoaded struct{ File string }

func (e *ErrMapNotLoaded) Error() string {
	return fmt.Sprintf("map files are loaded at start-up; name %s in the configuration (a converter or an ACL -f) to use it here", e.File)
}

// Snapshot compiles u from the entries of file, which the set must have
// loaded already, without registering u as a user: u keeps the entries of
// the moment (an expression compiled at run time, then dropped).
func (s *PatRefs) Snapshot(file string, u PatUser) error {
	r := s.Lookup(file)
	if r == nil || !r.IsMap {
		return &ErrMapNotLoaded{File: file}
	}
	commit, err := u.Rebuild(r.Entries())
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	commit()
	return nil
}

// path is where file is read from: Dir joined to a relative name.
func (s *PatRefs) path(file string) string {
	if s.Dir == "" || filepath.IsAbs(file) {
		return file
	}
	return filepath.Join(s.Dir, file)
}

// ReadPatFile reads a pattern file with HAProxy's rules. Map files: blanks
// before the key are skipped, lines starting with '#' and empty lines are
// ignored, the key ends at a blank, the value is the rest of the line
// without surrounding blanks. ACL files: a '#' in the first column starts
// a comment, leading blanks are skipped, the rest of the line (trailing
// blanks included, as HAProxy) is the pattern.
func ReadPatFile(file string, isMap bool) ([]PatEntry, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []PatEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for line := 1; sc.Scan(); line++ {
		e, ok, err := ParsePatLine(sc.Text(), isMap)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		if ok {
			e.ID, e.Line = newEntryID(), line
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading pattern file %s: %w", file, err)
	}
	return out, nil
}

// ParsePayloadLine reads one line of an `add map|acl FILE <<` payload: as
// HAProxy, without comments ("# x" is an entry); ok is false when blank.
func ParsePayloadLine(line string, isMap bool) (e PatEntry, ok bool) {
	line = strings.Trim(strings.TrimRight(line, "\r"), " \t")
	if line == "" {
		return e, false
	}
	key, val := line, ""
	if i := strings.IndexAny(line, " \t"); i >= 0 && isMap {
		key, val = line[:i], strings.TrimLeft(line[i:], " \t")
	}
	return PatEntry{Key: key, Value: val}, true
}

// ParsePatLine reads one line of a pattern file; ok is false for a
// comment or an empty line.
func ParsePatLine(line string, isMap bool) (e PatEntry, ok bool, err error) {
	line = strings.TrimRight(line, "\r")
	if strings.IndexByte(line, 0) >= 0 {
		return e, false, errors.New("NUL byte in line")
	}
	if !isMap {
		if strings.HasPrefix(line, "#") {
			return e, false, nil
		}
		line = strings.TrimLeft(line, " \t")
		return PatEntry{Key: line}, line != "", nil
	}
	line = strings.Trim(line, " \t")
	if line == "" || line[0] == '#' {
		return e, false, nil
	}
	key, val := line, ""
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		key, val = line[:i], strings.TrimLeft(line[i:], " \t")
	}
	return PatEntry{Key: key, Value: val}, true, nil
}

var entryIDs atomic.Uint64

// newEntryID returns an id shaped like the heap pointers HAProxy prints,
// so that tools matching 0x[0-9a-f]+ read it.
func newEntryID() uint64 { return 0x55d000000000 + entryIDs.Add(1)*0x50 }

// change applies fn to a copy of r's entries and publishes the result to
// every user, or to none when a user refuses it.
func (r *PatRef) change(fn func([]PatEntry) ([]PatEntry, error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changeLocked(fn)
}

func (r *PatRef) changeLocked(fn func([]PatEntry) ([]PatEntry, error)) error {
	next, err := fn(append([]PatEntry(nil), r.Entries()...))
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return err
	}
	commits := make([]func(), 0, len(r.users))
	for _, u := range r.users {
		c, err := u.Rebuild(next)
		if err != nil {
			return err
		}
		commits = append(commits, c)
	}
	r.entries.Store(&next)
	r.keys = nil
	for _, c := range commits {
		c()
	}
	return nil
}

// PatAppender is a PatUser that can extend its view with entries added
// after the from first ones of all without rebuilding it.
type PatAppender interface {
	Append(all []PatEntry, from int) (commit func(), err error)
}

// appendLocked adds es after the current entries: the new list shares the
// old one's array (readers of the old list never look past its length),
// and users that can append do so instead of rebuilding.
func (r *PatRef) appendLocked(es []PatEntry) error {
	cur := r.Entries()
	for i := range es {
		es[i].ID = newEntryID()
	}
	// In place while capacity lasts, else a doubled copy: amortised O(1).
	// Entries past len(cur) are seen by no reader, and a refused append
	// leaves them to be overwritten.
	next := append(cur, es...)
	commits := make([]func(), 0, len(r.users))
	for _, u := range r.users {
		var c func()
		var err error
		if a, ok := u.(PatAppender); ok {
			c, err = a.Append(next, len(cur))
		} else {
			c, err = u.Rebuild(next)
		}
		if err != nil {
			return err
		}
		commits = append(commits, c)
	}
	r.entries.Store(&next)
	if r.keys != nil {
		for i := range es {
			r.keys[es[i].Key] = append(r.keys[es[i].Key], len(cur)+i)
		}
	}
	for _, c := range commits {
		c()
	}
	return nil
}

// keyIndex returns the positions of each key's entries, built once per
// list that a change did not move.
func (r *PatRef) keyIndex() map[string][]int {
	if r.keys == nil {
		es := r.Entries()
		r.keys = make(map[string][]int, len(es))
		for i := range es {
			r.keys[es[i].Key] = append(r.keys[es[i].Key], i)
		}
	}
	return r.keys
}

// ErrKeyNotFound and ErrEntryNotFound are HAProxy's answers to deleting
// and to setting a missing key.
var (
	ErrKeyNotFound   = errors.New("Key not found.")
	ErrEntryNotFound = errors.New("entry not found.")
)

// Add appends entries (add map, add acl, add-acl, a payload).
func (r *PatRef) Add(es ...PatEntry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.appendLocked(append([]PatEntry(nil), es...))
}

// selects reports whether e is designated by key: "#0x..." names one
// entry by its id, anything else every entry with that key.
func selects(e *PatEntry, key string) bool {
	if strings.HasPrefix(key, "#") {
		id, err := strconv.ParseUint(strings.TrimPrefix(key[1:], "0x"), 16, 64)
		return err == nil && e.ID == id
	}
	return e.Key == key
}

// Set changes the value of every entry designated by key.
func (r *PatRef) Set(key, value string) error {
	return r.change(func(cur []PatEntry) ([]PatEntry, error) {
		n := 0
		for i := range cur {
			if selects(&cur[i], key) {
				cur[i].Value = value
				n++
			}
		}
		if n == 0 {
			return nil, ErrEntryNotFound
		}
		return cur, nil
	})
}

// SetOrAdd is the set-map action: set the key's value, or add the key.
func (r *PatRef) SetOrAdd(key, value string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.keyIndex()[key]
	if !ok {
		return r.appendLocked([]PatEntry{{Key: key, Value: value}})
	}
	es := r.Entries()
	same := true
	for _, i := range at {
		same = same && es[i].Value == value
	}
	if same {
		return nil // the same value: nothing to rebuild
	}
	return r.changeLocked(func(cur []PatEntry) ([]PatEntry, error) {
		n := 0
		for i := range cur {
			if cur[i].Key == key {
				cur[i].Value = value
				n++
			}
		}
		if n == 0 {
			cur = append(cur, PatEntry{ID: newEntryID(), Key: key, Value: value})
		}
		return cur, nil
	})
}

// Del removes every entry designated by key.
func (r *PatRef) Del(key string) error {
	return r.change(func(cur []PatEntry) ([]PatEntry, error) {
		out := cur[:0]
		for i := range cur {
			if !selects(&cur[i], key) {
				out = append(out, cur[i])
			}
		}
		if len(out) == len(cur) {
			return nil, ErrKeyNotFound
		}
		return out, nil
	})
}

// AddOnce adds key unless an entry has it (the add-acl action).
func (r *PatRef) AddOnce(key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.keyIndex()[key]; ok {
		return nil
	}
	return r.appendLocked([]PatEntry{{Key: key}})
}

// errUnchanged ends a change that has nothing to do.
var errUnchanged = errors.New("unchanged")

// Clear removes every entry.
func (r *PatRef) Clear() error {
	return r.change(func([]PatEntry) ([]PatEntry, error) { return nil, nil })
}

// scope is the set that expressions compiled during a generation's
// preparation attach to (WithPatRefs). Compile functions have no context
// argument, so the set is handed over here; scopes are serialised.
var (
	scopeMu  sync.Mutex
	scopeCur atomic.Pointer[PatRefs]
)

// WithPatRefs runs fn (which compiles a generation's expressions) with s as
// the set that map converters and ACL -f files attach to.
func WithPatRefs(s *PatRefs, fn func()) {
	scopeMu.Lock()
	defer scopeMu.Unlock()
	scopeCur.Store(s)
	defer scopeCur.Store(nil)
	fn()
}

// CurrentPatRefs is the set of the generation being prepared, nil outside.
func CurrentPatRefs() *PatRefs { return scopeCur.Load() }

// Version errors, HAProxy's words.
var (
	ErrVersionRange = errors.New("Version number out of range.")
	ErrNoVersion    = errors.New("Missing version number.")
)

// Versions returns the current and the last prepared version.
func (r *PatRef) Versions() (curr, next uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.curr, r.next
}

// Prepare opens a new version (prepare map|acl) and returns its number.
func (r *PatRef) Prepare() uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	return r.next
}

// AddVersion adds entries to version ver: the live list when ver is the
// current version, else the pending version (invisible until committed).
// future is false when ver was never prepared.
func (r *PatRef) AddVersion(ver uint32, es ...PatEntry) (future bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if int32(ver-r.next) > 0 {
		return true, nil
	}
	if ver == r.curr {
		return false, r.appendLocked(append([]PatEntry(nil), es...))
	}
	if r.pending == nil {
		r.pending = map[uint32][]PatEntry{}
	}
	for _, e := range es {
		e.ID = newEntryID()
		r.pending[ver] = append(r.pending[ver], e)
	}
	return false, nil
}

// EntriesAt returns version ver's entries (show map @VER).
func (r *PatRef) EntriesAt(ver uint32) []PatEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ver == r.curr {
		return r.Entries()
	}
	return append([]PatEntry(nil), r.pending[ver]...)
}

// ClearVersion empties version ver (clear map @VER).
func (r *PatRef) ClearVersion(ver uint32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ver == r.curr {
		return r.changeLocked(func([]PatEntry) ([]PatEntry, error) { return nil, nil })
	}
	delete(r.pending, ver)
	return nil
}

// Commit makes version ver the live list, atomically for every user, and
// drops the versions before it (HAProxy: only curr+1..next may be
// committed; later prepared versions stay pending).
func (r *PatRef) Commit(ver uint32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ver-(r.curr+1) >= r.next-r.curr { // unsigned: only curr+1..next
		return ErrVersionRange
	}
	es := r.pending[ver]
	if err := r.changeLocked(func([]PatEntry) ([]PatEntry, error) { return append([]PatEntry(nil), es...), nil }); err != nil {
		return err
	}
	for v := range r.pending {
		if int32(v-ver) <= 0 {
			delete(r.pending, v)
		}
	}
	r.curr = ver
	return nil
}

// Count is the number of entries of every version (HAProxy's entry_cnt
// counts them all).
func (r *PatRef) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.Entries())
	for _, es := range r.pending {
		n += len(es)
	}
	return n
}
