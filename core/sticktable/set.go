package sticktable

import "sort"

// Set is one generation's tables by name (a table is named after the
// proxy that declares it).
type Set struct {
	m     map[string]*Table
	order []string // declaration order
}

// NewSet builds a set from tables.
func NewSet(ts ...*Table) *Set {
	s := &Set{m: make(map[string]*Table, len(ts))}
	for _, t := range ts {
		s.Add(t)
	}
	return s
}

// Add puts t in the set.
func (s *Set) Add(t *Table) {
	if _, dup := s.m[t.Def.Name]; !dup {
		s.order = append(s.order, t.Def.Name)
	}
	s.m[t.Def.Name] = t
}

// Lookup returns the table named name, or nil.
func (s *Set) Lookup(name string) *Table {
	if s == nil {
		return nil
	}
	return s.m[name]
}

// Names lists the tables last declared first, the order of HAProxy's
// `show table`.
func (s *Set) Names() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.order))
	for i := len(s.order) - 1; i >= 0; i-- {
		out = append(out, s.order[i])
	}
	return out
}

// Adopt makes each table of s whose definition did not change share its
// entries with the table of the same name in old (the reload's
// predecessor); it returns the names adopted. Call it before s is used.
func (s *Set) Adopt(old *Set) []string {
	var kept []string
	if s == nil || old == nil {
		return nil
	}
	for name, t := range s.m {
		if t.Adopt(old.m[name]) {
			kept = append(kept, name)
		}
	}
	sort.Strings(kept)
	return kept
}
