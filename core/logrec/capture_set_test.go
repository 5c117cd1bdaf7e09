package logrec

import (
	"bytes"
	"testing"
)

func TestCapturesSet(t *testing.T) {
	var c Captures
	c.Add([]byte("aa"), 0)
	c.Add(nil, 0)
	c.Add([]byte("cccc"), 0)
	c.Set(1, []byte("longer value"), 6)
	c.Set(0, []byte("x"), 0)
	c.Set(5, []byte("ignored"), 0)
	got := [][]byte{c.At(0), c.At(1), c.At(2)}
	want := [][]byte{[]byte("x"), []byte("longer"), []byte("cccc")}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("slot %d = %q, want %q", i, got[i], want[i])
		}
	}
	big := bytes.Repeat([]byte("z"), CaptureBytes)
	c.Set(1, big, 0)
	if n := len(c.At(0)) + len(c.At(1)) + len(c.At(2)); n != CaptureBytes || string(c.At(2)) != "cccc" {
		t.Fatalf("a value past the buffer: total %d, slot 2 %q", n, c.At(2))
	}
}
