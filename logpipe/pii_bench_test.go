package logpipe

import (
	"testing"
	"time"

	"github.com/varde-lb/varde/core/logrec"
)

// The anonymiser is on the log path: each record's request line and
// captured headers go through it. These measure httplog encode +
// `anonymize ip 24,48` with and without the personal-data classes and
// parameter names, on a typical request and on one full of findings.
func piiBenchEncoder(b testing.TB, pii PIISpec) *Encoder {
	e, err := NewEncoder(EncoderConfig{Format: "httplog", Location: time.UTC, ReqCaptures: []string{"Host", "Referer"},
		Anon: AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48, PII: pii}})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func piiBenchRecord(line, referer string) *logrec.Record {
	r := docRecord()
	r.RequestLine.Set([]byte(line))
	r.ReqHeaders = logrec.Captures{}
	r.ReqHeaders.Add([]byte("shop.example.com"), 0)
	r.ReqHeaders.Add([]byte(referer), 0)
	return r
}

var (
	typicalLine = "GET /api/v1/products/123456?page=2&sort=price&ts=1733600000123 HTTP/1.1"
	typicalRef  = "https://shop.example.com/category/shoes?color=red"
	piiLine     = "GET /signup?email=kari.nordmann%40example.no&tel=%2B4741234567&token=eyJhbGciOiJIUzI1NiJ9 HTTP/1.1"
	piiRef      = "https://shop.example.com/pay?card=4111111111111111"
	benchPII    = PIISpec{Classes: PIIDetected, Params: DefaultAuditParams}
)

func benchEncode(b *testing.B, pii PIISpec, line, ref string) {
	e := piiBenchEncoder(b, pii)
	r := piiBenchRecord(line, ref)
	buf := make([]byte, 0, 4096)
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = e.AppendAt(buf[:0], r, now)
	}
}

func BenchmarkAnonIPOnly(b *testing.B)         { benchEncode(b, PIISpec{}, typicalLine, typicalRef) }
func BenchmarkAnonPIITypical(b *testing.B)     { benchEncode(b, benchPII, typicalLine, typicalRef) }
func BenchmarkAnonPIIFindings(b *testing.B)    { benchEncode(b, benchPII, piiLine, piiRef) }
func BenchmarkAnonIPOnlyFindings(b *testing.B) { benchEncode(b, PIISpec{}, piiLine, piiRef) }

// Masking allocates nothing once the buffers have grown.
func TestPIIMaskAllocs(t *testing.T) {
	for _, line := range []string{typicalLine, piiLine} {
		m, _ := ParseMasks("drop,card=truncate")
		pii := benchPII
		pii.Masks = m
		e := piiBenchEncoder(t, pii)
		r := piiBenchRecord(line, piiRef)
		buf := e.Append(nil, r)
		if n := testing.AllocsPerRun(200, func() { buf = e.Append(buf[:0], r) }); n != 0 && !raceEnabled {
			t.Errorf("%q: %v allocations per record, want 0", line, n)
		}
	}
}
