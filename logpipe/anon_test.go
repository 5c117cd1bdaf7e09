package logpipe

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func TestAnonymizeAddr(t *testing.T) {
	a := newAnonymizer(AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48}, nil)
	a16 := newAnonymizer(AnonSpec{Mode: AnonIP, V4Bits: 16, V6Bits: 32}, nil)
	tests := []struct {
		in       string
		want     string
		want1632 string
	}{
		{"192.0.2.77", "192.0.2.0", "192.0.0.0"},
		{"10.255.255.255", "10.255.255.0", "10.255.0.0"},
		{"2001:db8:1:2::5", "2001:db8:1::", "2001:db8::"},
		{"::ffff:192.0.2.77", "::ffff:192.0.2.0", "::ffff:192.0.0.0"},
		{"fe80::1%eth0", "fe80::", "fe80::"},
		{"::1", "::", "::"},
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.in)
		if got := string(a.appendAddr(nil, ip, t0)); got != tt.want {
			t.Errorf("24,48 %s: got %s, want %s", tt.in, got, tt.want)
		}
		if got := string(a16.appendAddr(nil, ip, t0)); got != tt.want1632 {
			t.Errorf("16,32 %s: got %s, want %s", tt.in, got, tt.want1632)
		}
	}
	none := newAnonymizer(AnonSpec{}, nil)
	if got := string(none.appendAddr(nil, netip.MustParseAddr("192.0.2.77"), t0)); got != "192.0.2.77" {
		t.Errorf("none: %s", got)
	}
}

func TestAnonymizeHeaders(t *testing.T) {
	a := newAnonymizer(AnonSpec{Mode: AnonIP, V4Bits: 24, V6Bits: 48}, nil)
	tests := []struct {
		kind     headerKind
		in, want string
	}{
		{hdrAddrList, "203.0.113.9", "203.0.113.0"},
		{hdrAddrList, "203.0.113.9, 198.51.100.7,10.0.0.1", "203.0.113.0, 198.51.100.0,10.0.0.0"},
		{hdrAddrList, "2001:db8:aa:bb::1, ::ffff:203.0.113.9", "2001:db8:aa::, ::ffff:203.0.113.0"},
		{hdrAddrList, "203.0.113.9:5555, [2001:db8:1:2::3]:443", "203.0.113.0:5555, [2001:db8:1::]:443"},
		{hdrAddrList, "unknown, 203.0.113.9", "unknown, 203.0.113.0"},
		{hdrAddrList, "203.0.113", "invalid"},
		{hdrAddrList, "999.1.1.1, 1.2.3.4", "invalid, 1.2.3.0"},
		{hdrAddrList, "1.2.3.4:99999", "invalid"},
		{hdrAddrList, "<script>", "invalid"},
		{hdrAddrList, "[2001:db8::1", "invalid"},
		{hdrAddrList, "", ""},
		{hdrForwarded, `for=192.0.2.60;proto=http;by=203.0.113.43`, `for=192.0.2.0;proto=http;by=203.0.113.0`},
		{hdrForwarded, `For="[2001:db8:cafe::17]:4711", for=_hidden, for=unknown`, `For="[2001:db8:cafe::]:4711", for=_hidden, for=unknown`},
		{hdrForwarded, `for=garbage;host=10.1.2.3`, `for=invalid;host=10.1.2.0`},
		{hdrText, "http://192.0.2.77:8080/x?ip=2001:db8:1:2::5&v=1.2.3", "http://192.0.2.0:8080/x?ip=2001:db8:1::&v=1.2.3"},
		{hdrText, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.6099.109", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.6099.109"},
		{hdrText, "at 12:30:45 ok", "at 12:30:45 ok"},
		{hdrText, "addr 10.0.0.1.", "addr 10.0.0.0."},
		{hdrText, "[fe80::1%eth0]", "[fe80::%eth0]"},
	}
	for _, tt := range tests {
		if got := string(a.appendHeader(nil, []byte(tt.in), tt.kind, t0)); got != tt.want {
			t.Errorf("kind %d %q: got %q, want %q", tt.kind, tt.in, got, tt.want)
		}
	}
}

func TestAnonymizeHMAC(t *testing.T) {
	dir := t.TempDir()
	kf := filepath.Join(dir, "keys")
	ring, err := openKeyRing(kf, time.Hour, 3*time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(kf)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	a := newAnonymizer(AnonSpec{Mode: AnonHMAC, KeyFile: kf, Rotate: time.Hour}, ring)
	ip := netip.MustParseAddr("192.0.2.77")
	p1 := string(a.appendAddr(nil, ip, t0))
	p2 := string(a.appendAddr(nil, ip, t0.Add(30*time.Minute)))
	p3 := string(a.appendAddr(nil, ip, t0.Add(61*time.Minute)))
	other := string(a.appendAddr(nil, netip.MustParseAddr("192.0.2.78"), t0))
	mapped := string(a.appendAddr(nil, netip.MustParseAddr("::ffff:192.0.2.77"), t0))
	if !strings.HasPrefix(p1, "h-") || len(p1) != 18 {
		t.Fatalf("pseudonym %q", p1)
	}
	if p1 != p2 || p1 == p3 || p1 == other || mapped != p1 {
		t.Errorf("same period must link, next period and other addresses must not: %s %s %s %s %s", p1, p2, p3, other, mapped)
	}
	// A reopened ring reuses the persisted key for the same period.
	ring2, err := openKeyRing(kf, time.Hour, 3*time.Hour, t0.Add(61*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	b := newAnonymizer(a.spec, ring2)
	if got := string(b.appendAddr(nil, ip, t0.Add(62*time.Minute))); got != p3 {
		t.Errorf("key not persisted: %s vs %s", got, p3)
	}
	// Five hours later, keys whose period ended > 3h ago are destroyed.
	if err := ring2.prune(t0.Add(5*time.Hour + 30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	ring2.current(t0.Add(5*time.Hour + 30*time.Minute))
	data, _ := os.ReadFile(kf)
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "1") { // key lines start with a unix time
			start := line[:strings.IndexByte(line, ' ')]
			if start == "1795262400" { // t0's period
				t.Errorf("expired key still in the key file:\n%s", data)
			}
		}
	}
	if n := ring2.count(); n > 4 {
		t.Errorf("%d keys kept, want the last retention's worth", n)
	}
}

func TestForEachAddrFindsWhatAuditFinds(t *testing.T) {
	// Anonymised text must contain no address the scanner still finds as
	// raw (except the anonymised ones themselves): rescanning finds only
	// zeroed host parts.
	a := newAnonymizer(AnonSpec{Mode: AnonHMAC}, &keyRing{keys: []periodKey{{0, make([]byte, 32)}}})
	in := "GET /p?a=192.0.2.1&b=[2001:db8::1]:80&c=1.2.3.4.5 HTTP/1.1"
	out := a.appendText(nil, []byte(in), t0)
	if _, _, _, found := nextAddr(out, 0); found {
		t.Errorf("addresses left in %q", out)
	}
}
