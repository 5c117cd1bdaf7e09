package httpx

import "testing"

// TestChunkedSkipData: skipping a chunk's payload (what a splicing relay
// does) leaves the scanner where scanning it would, for every split.
func TestChunkedSkipData(t *testing.T) {
	body := []byte("5\r\nhello\r\n1a;x=y\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nT: v\r\n\r\nNEXT")
	var whole Chunked
	nw, err := whole.Scan(body)
	if err != nil || nw != len(body)-len("NEXT") {
		t.Fatalf("scan %d, %v", nw, err)
	}
	for cut := 0; cut <= nw; cut++ {
		var skip Chunked
		// Scan up to cut, skip whatever payload is pending there, scan on.
		k, err := skip.Scan(body[:cut])
		if err != nil || k != cut {
			t.Fatalf("cut %d: scan %d, %v", cut, k, err)
		}
		n := skip.InData()
		skip.SkipData(n)
		if skip.InData() != 0 {
			t.Fatalf("cut %d: %d payload bytes left after SkipData", cut, skip.InData())
		}
		rest, err := skip.Scan(body[cut+int(n):])
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if cut+int(n)+rest != nw || skip.Data != whole.Data || !skip.Done() {
			t.Fatalf("cut %d: ended at %d (data %d, done %v), want %d (data %d)", cut, cut+int(n)+rest, skip.Data, skip.Done(), nw, whole.Data)
		}
	}
	var c Chunked
	c.SkipData(3) // outside a chunk: no effect
	if c.InData() != 0 || c.Data != 0 {
		t.Fatal("SkipData outside a chunk changed the scanner")
	}
}
