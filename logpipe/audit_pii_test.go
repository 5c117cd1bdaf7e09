package logpipe

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/logrec"
)

// piiRequests hold one finding of each class in a request line, a
// captured header or a captured cookie.
func piiRecords() []*logrec.Record {
	fnr := validFnr("241299")
	mk := func(line, hdr, cookie string) *logrec.Record {
		r := docRecord()
		r.Client = netip.MustParseAddrPort("192.0.2.0:4000")
		r.RequestLine.Set([]byte(line))
		r.ReqHeaders = logrec.Captures{}
		r.ReqHeaders.Add([]byte(hdr), 0)
		r.ReqCookie.Set([]byte(cookie))
		return r
	}
	return []*logrec.Record{
		mk("GET /newsletter/kari.nordmann%40example.no/confirm HTTP/1.1", "shop.example", ""),
		mk("GET /call?to=%2B4741234567 HTTP/1.1", "shop.example", ""),
		mk("GET /kunde/"+fnr+" HTTP/1.1", "shop.example", ""),
		mk("POST /pay?pan=5555-5555-5555-4444 HTTP/1.1", "shop.example", ""),
		mk("GET /?token=eyJhbGciOi HTTP/1.1", "shop.example", ""),
		mk("GET / HTTP/1.1", "https://shop.example/?email=ola@example.com", ""),
		mk("GET / HTTP/1.1", "shop.example", "session=ab12cd34"),
	}
}

func encodeAll(t *testing.T, anon AnonSpec, recs []*logrec.Record) []byte {
	t.Helper()
	e, err := NewEncoder(EncoderConfig{Format: "httplog", Location: time.UTC, ReqCaptures: []string{"Referer"}, Anon: anon})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, r := range recs {
		b.Write(e.Append(nil, r))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func TestAuditFindsEachClass(t *testing.T) {
	raw := encodeAll(t, AnonSpec{}, piiRecords())
	var fr FileReport
	AuditReader(&fr, bytes.NewReader(raw), AuditOptions{Location: time.UTC})
	want := map[string]int{"email": 1, "phone": 1, "fnr": 1, "card": 1, "param": 3} // the Referer's email= is a parameter
	if fmt.Sprint(fr.PII) != fmt.Sprint(want) || fr.Compliant {
		t.Fatalf("found %v (compliant %v), want %v\n%s", fr.PII, fr.Compliant, want, raw)
	}
	for _, f := range fr.PIIFindings {
		if f.Line < 1 || f.Field == "" || f.Class == "fnr" && f.Masked != "***********" || f.Class == "email" && f.Masked[0] != '*' {
			t.Errorf("finding %+v", f)
		}
		if strings.Contains(string(raw), f.Masked) && f.Class != "param" {
			t.Errorf("sample %q is not masked", f.Masked)
		}
	}
	// The anonymiser (ip 24,48 masks every class by default; params by
	// name) leaves nothing the audit reports, in every mask.
	for _, masks := range []string{"drop", "truncate"} {
		m, _ := ParseMasks(masks)
		anon := AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48,
			PII: PIISpec{Classes: PIIDetected, Params: []string{"token", "session", "email"}, Masks: m}}
		out := encodeAll(t, anon, piiRecords())
		var fr FileReport
		AuditReader(&fr, bytes.NewReader(out), AuditOptions{Location: time.UTC})
		if !fr.Compliant || len(fr.PII) > 0 {
			t.Errorf("%s: anonymised log still has %v: %v\n%s", masks, fr.PII, fr.Problems, out)
		}
	}
}

func TestAuditHashMask(t *testing.T) {
	kf := t.TempDir() + "/keys"
	m, _ := ParseMasks("hash")
	anon := AnonSpec{Mode: AnonHMAC, KeyFile: kf, PII: PIISpec{Classes: PIIDetected, Params: []string{"token", "session"}, Masks: m}}
	out := encodeAll(t, anon, piiRecords())
	var fr FileReport
	AuditReader(&fr, bytes.NewReader(out), AuditOptions{Location: time.UTC})
	if !fr.Compliant || bytes.Contains(out, []byte("example.no")) || bytes.Count(out, []byte("h-")) < 14 {
		t.Errorf("hash: %v %v\n%s", fr.PII, fr.Problems, out)
	}
}

// A log of ordinary traffic: ids, unix times, byte counts, ports, hex and
// UUID ids, versions, dates. The audit must flag nothing.
func TestAuditCleanLog(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var recs []*logrec.Record
	for i := 0; i < 3000; i++ {
		r := docRecord()
		r.Client = netip.MustParseAddrPort("198.51.100.0:" + fmt.Sprint(1024+rng.IntN(60000)))
		ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
		paths := []string{
			fmt.Sprintf("/api/v1/items/%d?page=%d&per_page=%d", rng.IntN(1e9), rng.IntN(500), rng.IntN(100)),
			fmt.Sprintf("/t?ts=%d&ms=%d&ns=%d", ts.Unix(), ts.UnixMilli(), ts.UnixNano()),
			fmt.Sprintf("/o/%016x/%08x", rng.Uint64(), rng.Uint32()),
			fmt.Sprintf("/u/%08x-%04x-%04x-%04x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<16), rng.IntN(1<<16), rng.Int64N(1<<48)),
			fmt.Sprintf("/static/app.%d.js?v=%d.%d.%d", rng.IntN(1e8), rng.IntN(10), rng.IntN(30), rng.IntN(100)),
			fmt.Sprintf("/r?from=%s&to=%s", ts.Format("2006-01-02"), ts.Add(48*time.Hour).Format(time.RFC3339)),
			fmt.Sprintf("/s?q=hello+world&n=%d&port=%d", rng.IntN(1e7), rng.IntN(65536)),
		}
		r.RequestLine.Set([]byte("GET " + paths[i%len(paths)] + " HTTP/1.1"))
		r.BytesOut, r.BytesIn = rng.Int64N(1e10), rng.Int64N(1e6)
		r.Ta, r.Tr = int32(rng.IntN(1e6)), int32(rng.IntN(1e5))
		r.ReqHeaders = logrec.Captures{}
		r.ReqHeaders.Add([]byte(fmt.Sprintf("https://shop.example/p/%d?ref=%x", rng.IntN(1e8), rng.Uint64())), 0)
		recs = append(recs, r)
	}
	out := encodeAll(t, AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48}, recs)
	var fr FileReport
	AuditReader(&fr, bytes.NewReader(out), AuditOptions{Location: time.UTC})
	if !fr.Compliant || len(fr.PII) > 0 || fr.Records != len(recs) {
		t.Errorf("clean log: %d records, %v %v %+v", fr.Records, fr.PII, fr.Problems, fr.PIIFindings)
	}
	// And the anonymiser leaves such lines byte for byte as they were.
	plain := encodeAll(t, AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48, PII: PIISpec{Classes: PIIDetected, Params: DefaultAuditParams}}, recs)
	if !bytes.Equal(out, plain) {
		t.Error("the anonymiser changed a clean log")
	}
}
