package wasm

import (
	"testing"
	"time"

	"github.com/varde-lb/varde/core"
)

// TestHandMadeModule checks the encoder and the simplest path end to end:
// a module answering a constant server name.
func TestHandMadeModule(t *testing.T) {
	p := compileT(t, writeModule(t, "s2", answering("choose_server", "s2")), 0)
	sc := p.ServerChooser()
	sc.Update(servers("s1", "s2"))
	s := sc.Pick(&core.PickContext{Req: req("10.0.0.1:5000")})
	if s == nil || s.Name != "s2" {
		t.Fatalf("picked %v, want s2", s)
	}
	_ = time.Second
}
