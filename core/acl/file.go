package acl

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/sample"
)

// fileMatcher is an ACL with -f files: its patterns are the values written
// on the line plus the entries of each file's shared PatRef, which the
// admin socket (add acl, del acl ...) and the add-acl/del-acl actions
// change at run time. Each change compiles a new matcher, published
// through an atomic pointer: matching never locks.
type fileMatcher struct {
	tmpl   matcher // criterion, method and flags; no patterns
	inline []string
	refs   []*sample.PatRef
	cur    atomic.Pointer[matcher]
}

// fileUser is the matcher as the user of its idx-th file.
type fileUser struct {
	fm  *fileMatcher
	idx int
}

func newFileMatcher(m *matcher, vals []string) (Matcher, error) {
	fm := &fileMatcher{tmpl: *m, inline: vals}
	refs := sample.CurrentPatRefs()
	usedBy := "acl"
	if m.mapFiles {
		usedBy = "acl -M" // HAProxy lists an -M acl among the map's users
	}
	for i, f := range m.files {
		r, err := refs.Attach(f, m.mapFiles, usedBy, &fileUser{fm: fm, idx: i})
		if err != nil {
			return nil, &Error{Criterion: m.crit, Token: -1, Msg: "pattern file: " + err.Error(), Hint: "the file lists one value per line; # starts a comment"}
		}
		fm.refs = append(fm.refs, r)
	}
	return fm, nil
}

// Rebuild implements sample.PatUser: entries replace this file's patterns.
func (u *fileUser) Rebuild(entries []sample.PatEntry) (func(), error) {
	fm := u.fm
	vals := append([]string(nil), fm.inline...)
	for i := 0; i <= u.idx || i < len(fm.refs); i++ {
		switch {
		case i == u.idx:
			vals = appendKeys(vals, entries)
		case i < len(fm.refs):
			vals = appendKeys(vals, fm.refs[i].Entries())
		}
	}
	m := fm.tmpl
	if err := m.compile(vals); err != nil {
		return nil, lineOf(&fm.tmpl, entries, err)
	}
	return func() { fm.cur.Store(&m) }, nil
}

func appendKeys(vals []string, es []sample.PatEntry) []string {
	for _, e := range es {
		vals = append(vals, e.Key)
	}
	return vals
}

// Match implements Matcher.
func (fm *fileMatcher) Match(req core.Request) bool { return fm.cur.Load().Match(req) }

func (fm *fileMatcher) matchState(st *evalState) bool { return fm.cur.Load().matchState(st) }

// Probe implements sample.PatUser for `get acl FILE VALUE`: the first
// pattern of this file that matches (the most specific network for ip).
func (u *fileUser) Probe(key string) sample.PatProbe {
	t := &u.fm.tmpl
	p := sample.PatProbe{Match: kindName(t.kind), Fold: t.fold, ACL: true,
		Tree: !t.fold && (t.kind == mStr || t.kind == mBeg) || t.kind == mIP}
	var v sample.Value
	switch t.kind {
	case mIP:
		a, err := netip.ParseAddr(key)
		if err != nil {
			return p
		}
		v.SetAddr(a)
	case mInt, mLen:
		n, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			return p
		}
		v.SetInt(n)
	default:
		v.SetStr([]byte(key))
	}
	if t.kind == mLen {
		v.SetInt(int64(len(key)))
	}
	// Tree-indexed methods report the most specific pattern (the longest
	// network or prefix), list-indexed ones the first in order.
	longest := t.kind == mIP || t.kind == mBeg && !t.fold
	best := -1
	for _, e := range u.fm.refs[u.idx].Entries() {
		one := *t
		if one.compile([]string{e.Key}) != nil || !one.Visit(&v) {
			continue
		}
		size := len(e.Key)
		if len(one.nets) == 1 {
			size = one.nets[0].Bits()
		}
		if best < 0 || longest && size > best {
			p.Found, p.Key, best = true, e.Key, size
		}
		if !longest {
			break
		}
	}
	return p
}

func kindName(k kind) string {
	for n, v := range kindNames {
		if v == k && !strings.Contains(n, "_") {
			return n
		}
	}
	return "str"
}

// lineOf finds the file entry that makes err, for an error with its line
// (an inline value or another file may be the culprit: err as it is).
func lineOf(t *matcher, entries []sample.PatEntry, err error) error {
	for i := range entries {
		one := *t
		if e := one.compile([]string{entries[i].Key}); e != nil {
			var ae *Error
			if errors.As(e, &ae) {
				e = errors.New(ae.Msg)
			}
			return sample.LineError(&entries[i], e)
		}
	}
	return err
}
