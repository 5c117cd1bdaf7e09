package peers

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/listen"
	"github.com/varde-lb/varde/core/sticktable"
	"github.com/varde-lb/varde/core/testenv"
)

// meshNode builds node name of a two-node section from a parsed
// configuration, as the generation subsystem does.
func meshNode(t *testing.T, name string, ports []int) (*Node, *sticktable.Table) {
	t.Helper()
	src := fmt.Sprintf(`peers mesh
    peer a 127.0.0.1:%d
    peer b 127.0.0.1:%d
    table clients type string len 16 size 100 expire 1m store gpc0,conn_rate(10s)
backend st
    stick-table type ip size 20k expire 1m store server_id,gpc0 peers mesh
`, ports[0], ports[1])
	path := filepath.Join(t.TempDir(), "mesh.cfg")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cs, d := config.LoadFilesWith([]string{path}, nil, config.LoadOptions{LocalPeer: name})
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	c := cs.HAProxy
	set := sticktable.NewSet(sticktable.New(c.StickTableOf("st").Def), sticktable.New(c.StickTableOf("mesh/clients").Def))
	n, err := NewNode(c.Peers[0], c, set, nil, &listen.Inventory{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return n, set.Lookup("st")
}

func TestTwoNodesReplicate(t *testing.T) {
	ports := testenv.FreePorts(t, 2)
	a, ta := meshNode(t, "a", ports)
	b, tb := meshNode(t, "b", ports)
	if len(a.tables) != 2 || a.tables[1].def.Name != "/clients" || a.tables[1].def.KeyLen != 17 {
		t.Fatalf("tables %+v", a.tables)
	}
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	key := []byte{192, 0, 2, 1}
	e := ta.Get(key) // before b exists: taught when b connects
	ta.Set(e, sticktable.ServerID, 3)
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	waitValue(t, tb, key, sticktable.ServerID, 3)
	ta.IncGPC0(e)
	waitValue(t, tb, key, sticktable.GPC0, 1)
	tb.IncGPC0(tb.Lookup(key))
	waitValue(t, ta, key, sticktable.GPC0, 2)
	// the peers section's own table replicates too
	ca := a.tables[1].t
	ca.IncGPC0(ca.Get([]byte("alice")))
	waitValue(t, b.tables[1].t, []byte("alice"), sticktable.GPC0, 1)
}

func waitValue(t *testing.T, tb *sticktable.Table, key []byte, d sticktable.DataType, want uint64) {
	t.Helper()
	var got uint64
	err := testenv.Until(5*time.Second, 5*time.Millisecond, func() error {
		got, _ = tb.ReadKey(key, d)
		if got != want {
			return fmt.Errorf("%s %s=%d, want %d", tb.Def.Name, d, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTeachInBatches: a table larger than one write reaches the other
// node whole, every batch applied to the right table.
func TestTeachInBatches(t *testing.T) {
	ports := testenv.FreePorts(t, 2)
	a, ta := meshNode(t, "a", ports)
	b, tb := meshNode(t, "b", ports)
	const n = 5000
	for i := range n {
		ta.Set(ta.Get([]byte{10, 0, byte(i >> 8), byte(i)}), sticktable.GPC0, uint64(i))
	}
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	last := n - 1
	waitValue(t, tb, []byte{10, 0, byte(last >> 8), byte(last)}, sticktable.GPC0, n-1)
	if err := testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
		if tb.Len() != n {
			return fmt.Errorf("%d entries", tb.Len())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestTeachBothWays: two nodes with large tables teach each other at
// once without blocking (each reads while it teaches).
func TestTeachBothWays(t *testing.T) {
	ports := testenv.FreePorts(t, 2)
	a, ta := meshNode(t, "a", ports)
	b, tb := meshNode(t, "b", ports)
	const n = 4000
	for i := range n {
		ta.Set(ta.Get([]byte{10, 1, byte(i >> 8), byte(i)}), sticktable.GPC0, 1)
		tb.Set(tb.Get([]byte{10, 2, byte(i >> 8), byte(i)}), sticktable.GPC0, 2)
	}
	ctx := context.Background()
	for _, nd := range []*Node{a, b} {
		if err := nd.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer nd.Stop()
	}
	for _, tbl := range []*sticktable.Table{ta, tb} {
		if err := testenv.Until(5*time.Second, 10*time.Millisecond, func() error {
			if tbl.Len() != 2*n {
				return fmt.Errorf("%d entries", tbl.Len())
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}
