package proxy

import (
	"fmt"

	"github.com/varde-lb/varde/core/httpx"
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

// TestEditsNoAllocWarm: once a session's edit list grew for a message, the
// same edits on the next transaction allocate nothing.
func TestEditsNoAllocWarm(t *testing.T) {
	var h httpx.Head
	raw := []byte("GET / HTTP/1.1\r\nHost: a\r\nX-1: v\r\n\r\n")
	var req httpx.Request
	if err := req.Parse(raw, httpx.DefaultLimits); err != nil {
		t.Fatal(err)
	}
	h = req.Head
	e := &edits{}
	val := []byte("value")
	run := func() {
		e.reset()
		e.load(&h)
		for i := 0; i < 20; i++ {
			e.del(nameMatch{name: "x-1"})
			e.add("X-1", val)
		}
	}
	run() // grows once
	if a := testing.AllocsPerRun(100, run); a != 0 {
		t.Errorf("20 edits after growth: %.1f allocations, want 0", a)
	}
	if v, ok := e.field("x-1"); !ok || string(v) != "value" || len(e.f) != 2 {
		t.Errorf("fields %d, x-1 = %q %v; want 2 fields and value", len(e.f), v, ok)
	}
}
