package acl

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/acl/acltest"
)

// payloadView is a mode tcp view: addresses and inspected bytes.
type payloadView struct {
	*acltest.Request
	b     []byte
	final bool
	need  bool
}

func (v *payloadView) Payload() ([]byte, bool) { return v.b, v.final }
func (v *payloadView) NeedMore()               { v.need = true }
func (v *payloadView) TakeMayChange() bool {
	n := v.need
	v.need = false
	return n
}

// TestMatch3: HAProxy's three-valued ACL logic for content inspection. A
// term that did not match on bytes that may still change is a MISS, which
// negation keeps; FAIL wins in a conjunction, PASS in a disjunction.
func TestMatch3(t *testing.T) {
	const (
		pass = "pass"
		fail = "fail"
		miss = "miss"
	)
	tests := []struct {
		cond  string
		in    string
		final bool
		want  string
	}{
		{"if { req.len gt 3 }", "ab", false, miss},
		{"if { req.len gt 3 }", "abcd", false, pass},
		{"if { req.len gt 3 }", "ab", true, fail},
		{"if !{ req.len gt 3 }", "ab", false, miss}, // not a PASS: the length may grow
		{"if !{ req.len gt 3 }", "ab", true, pass},
		{"unless { req.len gt 3 }", "ab", false, miss},
		{"unless { req.len gt 3 }", "abcd", false, fail},
		{"if { req.len gt 0 } || { req.payload(0,9) -m str xxxxxxxxx }", "ab", false, pass}, // PASS wins in OR
		{"if { req.payload(0,9) -m str xxxxxxxxx } || { req.len gt 0 }", "ab", false, pass},
		{"if { req.payload(0,9) -m str xxxxxxxxx } || { src 10.0.0.1 }", "ab", false, miss},
		{"if { src 10.0.0.1 } { req.len gt 3 }", "ab", false, fail}, // FAIL wins in AND
		{"if { req.len gt 3 } { src 10.0.0.1 }", "ab", false, fail},
		{"if { src 192.0.2.1 } { req.len gt 3 }", "ab", false, miss},
		{"if { req.payload(0,2) -m str ab }", "ab", false, pass},
		{"if { req.payload(0,2) -m str xy }", "ab", false, fail}, // the two bytes are there: final for this fetch
		{"if { src 192.0.2.1 }", "", false, pass},
	}
	s := testSet(t)
	for _, tt := range tests {
		c, err := ParseCondition(strings.Fields(tt.cond), s.Lookup)
		if err != nil {
			t.Fatalf("%s: %v", tt.cond, err)
		}
		v := &payloadView{Request: acltest.New("GET", "/"), b: []byte(tt.in), final: tt.final}
		ok, m := c.Match3(v)
		got := fail
		switch {
		case m:
			got = miss
		case ok:
			got = pass
		}
		if got != tt.want {
			t.Errorf("%s on %q (final %v): %s, want %s", tt.cond, tt.in, tt.final, got, tt.want)
		}
	}
}
