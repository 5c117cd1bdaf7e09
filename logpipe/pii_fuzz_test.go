package logpipe

import (
	"bytes"
	"testing"
	"time"
)

var piiSeeds = []string{
	"GET /a?email=kari@example.no&tel=41234567&cc=4111-1111-1111-1111&id=24129910182&token=x HTTP/1.1",
	"GET /u?e=ola%2Bx%40firma.co.uk&to=%2B4741234567&n=412%2034%20567 HTTP/1.1",
	"Cookie: lang=no; session=5f2a9c; theme=dark",
	"h-4111111111111111 3782 822463 10005 41 23 45 67 +14155552671 004722123456",
	"1733600000000 123e4567-e89b-12d3-a456-426614174000 10/0/30/69/109",
	"a@b.cd@e.fg %40%40x.no 12 34 56 78 90 --- %2B%2B47",
}

// FuzzPIIScan: the scanner never fails on any input, its findings are in
// bounds and in order, each one passes its class's own check, and the
// cheap pre-check never skips text that holds a finding.
func FuzzPIIScan(f *testing.F) {
	for _, s := range piiSeeds {
		f.Add([]byte(s))
	}
	p := &PIISpec{Classes: PIIDetected, Params: []string{"token", "session", "email"}}
	f.Fuzz(func(t *testing.T, v []byte) {
		last := 0
		found := false
		for from := 0; ; {
			s, e, cl, ok := p.nextPII(v, from)
			if !ok {
				break
			}
			found = true
			if s < last || e <= s || e > len(v) {
				t.Fatalf("span %d..%d after %d in %q", s, e, last, v)
			}
			var d []byte
			for i := s; i < e; i++ {
				if v[i] == '%' {
					i += 2
					continue
				}
				if isDigit(v[i]) {
					d = append(d, v[i])
				}
			}
			switch cl {
			case PIICard:
				if !luhn(d) || len(d) < 13 || len(d) > 19 {
					t.Fatalf("card %q fails Luhn", v[s:e])
				}
			case PIIFnr:
				if len(d) != 11 || !fnr(d) {
					t.Fatalf("fnr %q fails its checks", v[s:e])
				}
			case PIIEmail:
				if !bytes.Contains(v[s:e], []byte("@")) && !bytes.Contains(v[s:e], []byte("%40")) {
					t.Fatalf("email %q without @", v[s:e])
				}
			}
			last, from = e, e
		}
		if found && !p.mayHoldPII(v) {
			t.Fatalf("the pre-check skips %q", v)
		}
	})
}

// FuzzMaskLeavesNothing: whatever the text, in every mask, the anonymiser's
// output holds nothing the audit's scanner (same classes and names) finds.
func FuzzMaskLeavesNothing(f *testing.F) {
	for _, s := range piiSeeds {
		f.Add([]byte(s), uint8(0))
	}
	kf := f.TempDir() + "/keys"
	f.Fuzz(func(t *testing.T, v []byte, m uint8) {
		masks := [5]MaskMode{}
		for i := range masks {
			masks[i] = MaskMode((int(m) >> i) % 3)
		}
		p := PIISpec{Classes: PIIDetected, Params: []string{"token", "session", "email"}, Masks: masks}
		ring, err := openKeyRing(kf, 0, 0, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		a := newAnonymizer(AnonSpec{Mode: AnonHMAC, KeyFile: kf, PII: p}, ring)
		out := a.appendText(nil, v, time.Unix(0, 0))
		if s, e, cl, ok := p.nextPII(out, 0); ok {
			t.Fatalf("masks %v: %s %q left in %q (from %q)", masks, cl, out[s:e], out, v)
		}
	})
}
