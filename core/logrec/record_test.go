package logrec

import (
	"bytes"
	"testing"
	"unsafe"
)

func TestCaptures(t *testing.T) {
	var c Captures
	c.Add([]byte("example.com"), 0)
	c.Add(nil, 0)
	c.Add([]byte("1.2.3.4, 5.6.7.8"), 7)
	want := []string{"example.com", "", "1.2.3.4"}
	if c.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", c.Len(), len(want))
	}
	for i, w := range want {
		if got := string(c.At(i)); got != w {
			t.Errorf("At(%d) = %q, want %q", i, got, w)
		}
	}
	for i := 0; i < MaxCaptures+3; i++ {
		c.Add(bytes.Repeat([]byte("x"), 200), 0)
	}
	if c.Len() != MaxCaptures {
		t.Errorf("Len after overflow = %d, want %d", c.Len(), MaxCaptures)
	}
	total := 0
	for i := 0; i < c.Len(); i++ {
		total += len(c.At(i))
	}
	if total != CaptureBytes {
		t.Errorf("captured %d bytes, want the buffer full (%d)", total, CaptureBytes)
	}
}

func TestResetAndLine(t *testing.T) {
	var r Record
	r.Status = 200
	r.RequestLine.SetParts([]byte("GET"), []byte("/a?b"), []byte("HTTP/1.1"))
	if got := string(r.RequestLine.Bytes()); got != "GET /a?b HTTP/1.1" {
		t.Errorf("line = %q", got)
	}
	if r.Null() {
		t.Error("record with a request line is null")
	}
	r.Reset()
	if r.Status != -1 || r.Tr != -1 || string(r.Term[:]) != "----" || !r.Null() {
		t.Errorf("Reset left %+v", r)
	}
	long := bytes.Repeat([]byte("a"), 5000)
	r.RequestLine.Set(long)
	if len(r.RequestLine.Bytes()) != RequestLineBytes {
		t.Errorf("line not truncated: %d", len(r.RequestLine.Bytes()))
	}
}

func TestRecordIsCheapToCopy(t *testing.T) {
	// The pipeline copies a Record per target per request; keep it small
	// enough that the copy stays far below the encode cost (3 KiB, plus
	// the 32 bytes of %bi:%bp).
	if s := unsafe.Sizeof(Record{}); s > 3072+32 {
		t.Errorf("Record is %d bytes; keep it under 3 KiB + 32", s)
	}
	var src, dst Record
	src.Reset()
	src.ReqHeaders.Add([]byte("h"), 0)
	if n := testing.AllocsPerRun(100, func() { dst = src; dst.ReqHeaders.Add([]byte("x"), 0) }); n != 0 {
		t.Errorf("copying a Record allocates %v times", n)
	}
}
