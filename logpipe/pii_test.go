package logpipe

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// makeFnr returns a valid fødselsnummer for DDMMYY and a 3-digit
// individual number (or "" when the check digits come out as 10).
func makeFnr(date string, ind int) string {
	d := fmt.Sprintf("%s%03d", date, ind)
	w1 := []int{3, 7, 6, 1, 8, 9, 4, 5, 2}
	s := 0
	for i, w := range w1 {
		s += int(d[i]-'0') * w
	}
	k1 := (11 - s%11) % 11
	if k1 == 10 {
		return ""
	}
	d += fmt.Sprint(k1)
	w2 := []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	s = 0
	for i, w := range w2 {
		s += int(d[i]-'0') * w
	}
	k2 := (11 - s%11) % 11
	if k2 == 10 {
		return ""
	}
	return d + fmt.Sprint(k2)
}

func validFnr(date string) string {
	for i := 100; i < 1000; i++ {
		if f := makeFnr(date, i); f != "" {
			return f
		}
	}
	panic("no fnr for " + date)
}

// flip changes the last digit: the check digit no longer matches.
func flip(s string) string {
	b := []byte(s)
	b[len(b)-1] = '0' + (b[len(b)-1]-'0'+1)%10
	return string(b)
}

var allPII = PIISpec{Classes: PIIDetected, Params: []string{"token", "session"}}

func findings(p *PIISpec, s string) []string {
	var out []string
	v := []byte(s)
	for from := 0; ; {
		st, e, cl, ok := p.nextPII(v, from)
		if !ok {
			return out
		}
		out = append(out, cl.String()+":"+s[st:e])
		from = e
	}
}

func TestPIIFound(t *testing.T) {
	fnr, dnr := validFnr("150385"), validFnr("550385") // D-number: day + 40
	tests := []struct{ in, want string }{
		{"GET /signup?email=kari.nordmann@example.no HTTP/1.1", "email:kari.nordmann@example.no"},
		{"GET /u?e=ola%2Bx%40firma.co.uk&x=1 HTTP/1.1", "email:ola%2Bx%40firma.co.uk"},
		{"Referer: mailto:a_b-c@sub.example.com", "email:a_b-c@sub.example.com"},
		{"GET /call?to=+4741234567 HTTP/1.1", "phone:+4741234567"},
		{"GET /call?to=%2B4791234567 HTTP/1.1", "phone:%2B4791234567"},
		{"GET /call?to=004722123456 HTTP/1.1", "phone:004722123456"},
		{"GET /call?to=+14155552671 HTTP/1.1", "phone:+14155552671"},
		{"GET /c?n=412%2034%20567 HTTP/1.1", "phone:412%2034%20567"},
		{"note 41 23 45 67 end", "phone:41 23 45 67"},
		{"GET /c?tel=41234567 HTTP/1.1", "phone:41234567"},
		{"GET /c?mobilnummer=91234567 HTTP/1.1", "phone:91234567"},
		{"GET /p?fnr=" + fnr + " HTTP/1.1", "fnr:" + fnr},
		{"GET /p/" + dnr + "/x HTTP/1.1", "fnr:" + dnr},
		{"GET /p?id=" + fnr[:6] + "%20" + fnr[6:] + " HTTP/1.1", "fnr:" + fnr[:6] + "%20" + fnr[6:]},
		{"GET /pay?cc=4111111111111111 HTTP/1.1", "card:4111111111111111"},
		{"GET /pay?cc=4111-1111-1111-1111 HTTP/1.1", "card:4111-1111-1111-1111"},
		{"GET /pay?cc=5555%205555%205555%204444 HTTP/1.1", "card:5555%205555%205555%204444"},
		{"pay 3782 822463 10005 ok", "card:3782 822463 10005"},
		{"pay 6011111111111117", "card:6011111111111117"},
		{"pay 4111 1111 1111 1111 1 x", "card:4111 1111 1111 1111"}, // the longest run of whole groups that is one
		{"GET /x?token=abc123&b=2 HTTP/1.1", "param:abc123"},
		{"Cookie: lang=no; session=5f2a9c; theme=dark", "param:5f2a9c"},
		{"GET /x?TOKEN=Zz HTTP/1.1", "param:Zz"},
	}
	for _, tt := range tests {
		got := findings(&allPII, tt.in)
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("%q: found %q, want [%s]", tt.in, got, tt.want)
		}
		if !allPII.mayHoldPII([]byte(tt.in)) {
			t.Errorf("%q: the pre-check would skip it", tt.in)
		}
	}
}

// Nothing an ordinary access log holds is personal data of these
// classes: HAProxy's own fields, timestamps, byte counts, durations,
// ports, hex ids, UUIDs, near-misses of each detector.
func TestPIINotFound(t *testing.T) {
	fnr := validFnr("010190")
	clean := []string{
		`10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"`,
		`<134>Dec  7 19:05:00 haproxy[12345]: 192.0.2.0:51234 [07/Dec/2026:19:05:00.123] fe~ be/s1 0/0/1/2/3 200 1234567890123 - - ---- 12/12/3/1/0 0/0 "GET /api/v1/items/12345678 HTTP/1.1"`,
		`GET /t?ts=1733600000000&ns=1733600000000000000&s=1733600000 HTTP/1.1`,
		`GET /o/5f3a9c0b12345678901234abcdef/x HTTP/1.1`,
		`GET /u/123e4567-e89b-12d3-a456-426614174000 HTTP/1.1`,
		`2026-12-07T19:05:00.123456+01:00 took 12345678 us, 8080, 443, 65535`,
		`GET /order/41234567 HTTP/1.1`,                             // an 8-digit id without a phone-named parameter
		`GET /p?id=` + flip(fnr) + ` HTTP/1.1`,                     // check digit wrong
		`GET /p?id=32139012345 HTTP/1.1`,                           // no such date
		`GET /pay?n=4111111111111112 HTTP/1.1`,                     // Luhn fails
		`GET /pay?n=1234567812345670 HTTP/1.1`,                     // Luhn passes, no issuer starts with 1
		`user@localhost wrote to admin@intranet`,                   // no top-level domain
		`GET /x?tokens=abc&mytoken=1&token= HTTP/1.1`,              // other names, empty value
		`GET /x?token=[param]&session=h-0123456789abcdef HTTP/1.1`, // masked already
		`GET /x?token=ab**** HTTP/1.1`,
		`h-4111111111111111 is a pseudonym`,
		`GET /v?version=2.6.12&build=20231017 HTTP/1.1`,
		`1/1/1/1/0 0/0 10/0/30/69/109 +2 -1`,
		`GET /a%20b/%2012345678 HTTP/1.1`,
		`counts 12 34 56 78 90 12`,                         // not the 2-2-2-2 grouping
		`GET /s?q=hello+12345678&n=1+14155552671 HTTP/1.1`, // '+' inside text: a form-encoded space
		`GET /s?q=abc%2B4741234567 HTTP/1.1`,
	}
	for _, s := range clean {
		if got := findings(&allPII, s); len(got) > 0 {
			t.Errorf("%q: found %q", s, got)
		}
	}
}

func TestFnrDates(t *testing.T) {
	for _, d := range []string{"290200", "290204", "311299", "010100", "710150", "015000"} { // leap years, D-number, H-number
		if f := validFnr(d); !fnr([]byte(f)) {
			t.Errorf("%s: %s not accepted", d, f)
		}
	}
	for _, d := range []string{"300200", "290201", "320199", "001099", "011399", "720150"} {
		for i := 100; i < 200; i++ {
			if f := makeFnr(d, i); f != "" && fnr([]byte(f)) {
				t.Errorf("%s: %s accepted", d, f)
				break
			}
		}
	}
}

func TestMaskModes(t *testing.T) {
	fnr := validFnr("150385")
	line := "GET /a?email=kari@example.no&tel=41234567&cc=4111-1111-1111-1111&id=" + fnr + "&token=secret99 HTTP/1.1"
	tests := []struct {
		masks string
		want  string
	}{
		{"drop", "GET /a?email=[email]&tel=[phone]&cc=[card]&id=[fnr]&token=[param] HTTP/1.1"},
		{"truncate", "GET /a?email=*@example.no&tel=41******&cc=411111******1111&id=***********&token=se****** HTTP/1.1"},
		{"drop,card=truncate,param=truncate", "GET /a?email=[email]&tel=[phone]&cc=411111******1111&id=[fnr]&token=se****** HTTP/1.1"},
	}
	for _, tt := range tests {
		m, err := ParseMasks(tt.masks)
		if err != nil {
			t.Fatal(err)
		}
		a := newAnonymizer(AnonSpec{PII: PIISpec{Classes: PIIDetected, Params: []string{"token"}, Masks: m}}, nil)
		got := string(a.appendText(nil, []byte(line), time.Time{}))
		if got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.masks, got, tt.want)
		}
		if f := findings(&allPII, got); len(f) > 0 {
			t.Errorf("%s: the audit would still find %q in %s", tt.masks, f, got)
		}
	}
}

func TestParseMasksErrors(t *testing.T) {
	for _, s := range []string{"blur", "drop,hash", "drop,ssn=hash", "drop,card=x"} {
		if _, err := ParseMasks(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if _, err := ParsePIIClasses("email,ssn"); err == nil || !strings.Contains(err.Error(), "ssn") {
		t.Errorf("ssn: %v", err)
	}
}

// What a log line's anonymize options mask by default and on request.
func TestPIIFromLogLine(t *testing.T) {
	for words, want := range map[string]string{
		"anonymize ip 24,48":                                      "email,phone,fnr,card 26 drop",
		"anonymize ip 24,48 anonymize params none":                "email,phone,fnr,card 0 drop",
		"anonymize ip 24,48 anonymize pii none":                   " 26 drop",
		"anonymize none":                                          " 0 drop",
		"anonymize params email,Token":                            " 2 drop",
		"anonymize hmac /tmp/k anonymize mask truncate,card=hash": "email,phone,fnr,card 26 truncate",
		"anonymize ip 24,48 anonymize pii email,card":             "email,card 26 drop",
	} {
		ts, err := ParseLogLine(append([]string{"127.0.0.1"}, append(strings.Fields(words), "local0")...))
		if err != nil {
			t.Fatalf("%s: %v", words, err)
		}
		p := ts.Anon.PII
		if got := fmt.Sprintf("%s %d %s", p.Classes, len(p.Params), p.Masks[0]); got != want {
			t.Errorf("%s: %s, want %s", words, got, want)
		}
	}
}
