package peers

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/testenv"
)

// defineMsg is a StktDefine message for def as ReadMessage returns it.
func defineMsg(t *testing.T, def *TableDef) Message {
	t.Helper()
	b := AppendTableDef(nil, def)
	m, err := ReadMessage(bufio.NewReader(bytes.NewReader(b)), MaxMessage)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDefinitionsAreBounded: a peer defining thousands of tables (with
// long names, or a real table under many ids) leaves at most one entry
// per local table; updates for a table not kept are ignored.
func TestDefinitionsAreBounded(t *testing.T) {
	n, _ := meshNode(t, "a", testenv.FreePorts(t, 2))
	s := &session{n: n, peer: "b", remote: map[uint64]*remoteTable{}}
	long := strings.Repeat("x", 4096)
	st := n.tables[0].def
	for i := range 2000 {
		unknown := st
		unknown.ID, unknown.Name = uint64(i+1), long
		if err := s.stickTable(defineMsg(t, &unknown)); err != nil {
			t.Fatal(err)
		}
		if s.current != nil {
			t.Fatal("an unknown table is current")
		}
		known := st
		known.ID = uint64(100000 + i)
		if err := s.stickTable(defineMsg(t, &known)); err != nil {
			t.Fatal(err)
		}
		if s.current == nil || s.current.local != n.tables[0] {
			t.Fatal("the local table is not current")
		}
	}
	if len(s.remote) > len(n.tables) {
		t.Fatalf("%d remote definitions kept for %d local tables", len(s.remote), len(n.tables))
	}
}
