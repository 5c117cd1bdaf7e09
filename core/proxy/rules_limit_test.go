package proxy

import (
	"fmt"
	"io"
	"net/http"
	"testing"
)

// TestTwentySetHeaderRules: HAProxy has no limit on header rules; the 17th
// to 20th set-header once were dropped silently.
func TestTwentySetHeaderRules(t *testing.T) {
	b1, s1 := backend(t, "b1", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})
	cfg := simpleConfig(hostport(b1))
	fe := cfg.Frontends[0]
	for i := 1; i <= 20; i++ {
		fe.HTTPRequest = append(fe.HTTPRequest, &HTTPRule{Action: ActSetHeader, Name: fmt.Sprintf("X-Req-%d", i), Value: fmt.Sprint(i)})
		fe.HTTPResponse = append(fe.HTTPResponse, &HTTPRule{Action: ActSetHeader, Name: fmt.Sprintf("X-Res-%d", i), Value: fmt.Sprint(i)})
	}
	_, addr := startEngine(t, cfg)
	for round := 0; round < 2; round++ { // the second reuses the grown lists
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body(t, resp)
		r := s1.last()
		for i := 1; i <= 20; i++ {
			if got := r.Header.Get(fmt.Sprintf("X-Req-%d", i)); got != fmt.Sprint(i) {
				t.Errorf("round %d: request header X-Req-%d = %q, want %d", round, i, got, i)
			}
			if got := resp.Header.Get(fmt.Sprintf("X-Res-%d", i)); got != fmt.Sprint(i) {
				t.Errorf("round %d: response header X-Res-%d = %q, want %d", round, i, got, i)
			}
		}
	}
}

// TestEditsNoAllocInline: up to editsInline edits per message use the
// inline arrays; past them the list grows once and is then reused.
func TestEditsNoAllocInline(t *testing.T) {
	var rules []*HTTPRule
	for i := 0; i < 20; i++ {
		rules = append(rules, &HTTPRule{Action: ActSetHeader, Name: fmt.Sprintf("X-%d", i)})
	}
	e := &edits{}
	run := func(n int) func() {
		return func() {
			e.reset()
			for _, r := range rules[:n] {
				e.apply(r)
			}
		}
	}
	if a := testing.AllocsPerRun(100, run(editsInline)); a != 0 {
		t.Errorf("%d edits: %.1f allocations, want 0", editsInline, a)
	}
	run(20)() // grows once
	if a := testing.AllocsPerRun(100, run(20)); a != 0 {
		t.Errorf("20 edits after growth: %.1f allocations, want 0", a)
	}
	if e.nDel != 20 || e.nAdd != 20 {
		t.Errorf("nDel %d nAdd %d, want 20 each", e.nDel, e.nAdd)
	}
}
