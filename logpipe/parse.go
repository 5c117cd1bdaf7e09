package logpipe

import (
	"bytes"
	"strconv"
	"time"
)

// Span is a byte range [Start, End) of a line.
type Span struct{ Start, End int }

// Line is an httplog or tcplog line as HAProxy (or varde) writes it, with
// or without a syslog header before it. Spans point into the parsed text
// so tools can rewrite a field and keep every other byte.
type Line struct {
	HTTP       bool
	Client     Span // the address part of "ip:port" (or "h-..." / "unix")
	Port       Span
	Date       time.Time // accept (tcplog) or request (httplog) date, in loc
	Frontend   string
	Backend    string
	Server     string
	Timers     []int
	Status     int   // httplog only
	Bytes      int64 // bytes read
	Term       string
	ReqHeaders Span // inside the braces, when captured
	ResHeaders Span
	Request    Span // inside the quotes (httplog)
	// Fields is every space-separated field from the client onward.
	Fields []string
}

// ParseLine recognises an httplog/tcplog line: it finds the
// "ip:port [dd/Mon/yyyy:hh:mm:ss.mmm] " pair anywhere in b (so syslog
// headers of any format are skipped) and reads the fields after it.
func ParseLine(b []byte, loc *time.Location) (Line, bool) {
	var l Line
	for i := 0; i+27 < len(b); i++ {
		if b[i] != ' ' || b[i+1] != '[' {
			continue
		}
		d, ok := parseHAProxyDate(b[i+2:], loc)
		if !ok || i+2+24 >= len(b) || b[i+2+24] != ']' {
			continue
		}
		// client token before " ["
		cs := bytes.LastIndexByte(b[:i], ' ') + 1
		tok := b[cs:i]
		colon := bytes.LastIndexByte(tok, ':')
		if colon <= 0 {
			continue
		}
		if _, err := strconv.Atoi(string(tok[colon+1:])); err != nil {
			continue
		}
		l.Client = Span{cs, cs + colon}
		l.Port = Span{cs + colon + 1, i}
		l.Date = d
		return parseRest(l, b, cs, i+2+25)
	}
	return l, false
}

func parseRest(l Line, b []byte, cs, pos int) (Line, bool) {
	// Fields after the date.
	rest := b[pos:]
	f := fieldsWithSpans(rest, pos)
	if len(f) < 6 {
		return l, false
	}
	l.Frontend = string(b[f[0].Start:f[0].End])
	be := string(b[f[1].Start:f[1].End])
	slash := bytes.IndexByte([]byte(be), '/')
	if slash < 0 {
		return l, false
	}
	l.Backend, l.Server = be[:slash], be[slash+1:]
	timers := bytes.Split(b[f[2].Start:f[2].End], []byte("/"))
	for _, t := range timers {
		n, err := strconv.Atoi(string(bytes.TrimPrefix(t, []byte("+"))))
		if err != nil {
			return l, false
		}
		l.Timers = append(l.Timers, n)
	}
	switch len(timers) {
	case 5: // httplog
		l.HTTP = true
		if len(f) < 10 {
			return l, false
		}
		var err error
		if l.Status, err = strconv.Atoi(string(b[f[3].Start:f[3].End])); err != nil {
			return l, false
		}
		if l.Bytes, err = strconv.ParseInt(string(bytes.TrimPrefix(b[f[4].Start:f[4].End], []byte("+"))), 10, 64); err != nil {
			return l, false
		}
		l.Term = string(b[f[7].Start:f[7].End])
		// {req} {res} "request": the captures may contain spaces, so
		// find them by their delimiters after the queue field.
		p := f[9].End
		if p < len(b) && b[p] == ' ' {
			p++
		}
		if p < len(b) && b[p] == '{' {
			e := bytes.IndexByte(b[p:], '}')
			if e < 0 {
				return l, false
			}
			l.ReqHeaders = Span{p + 1, p + e}
			p += e + 1
			if p+1 < len(b) && b[p] == ' ' && b[p+1] == '{' {
				p++
				e := bytes.IndexByte(b[p:], '}')
				if e < 0 {
					return l, false
				}
				l.ResHeaders = Span{p + 1, p + e}
				p += e + 1
			}
			if p < len(b) && b[p] == ' ' {
				p++
			}
		}
		if p < len(b) && b[p] == '"' {
			end := len(b)
			for end > p+1 && (b[end-1] == '\n' || b[end-1] == '\r' || b[end-1] == ' ') {
				end--
			}
			if end > p+1 && b[end-1] == '"' {
				end--
			}
			l.Request = Span{p + 1, end}
		}
	case 3: // tcplog
		var err error
		if l.Bytes, err = strconv.ParseInt(string(bytes.TrimPrefix(b[f[3].Start:f[3].End], []byte("+"))), 10, 64); err != nil {
			return l, false
		}
		l.Term = string(b[f[4].Start:f[4].End])
	default:
		return l, false
	}
	for _, s := range fieldsWithSpans(b[cs:], cs) {
		l.Fields = append(l.Fields, string(b[s.Start:s.End]))
	}
	return l, true
}

func fieldsWithSpans(b []byte, off int) []Span {
	var out []Span
	i := 0
	for i < len(b) {
		for i < len(b) && (b[i] == ' ' || b[i] == '\n') {
			i++
		}
		s := i
		for i < len(b) && b[i] != ' ' && b[i] != '\n' {
			i++
		}
		if i > s {
			out = append(out, Span{off + s, off + i})
		}
	}
	return out
}

var monthIndex = map[string]time.Month{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

// parseHAProxyDate reads "06/Feb/2009:12:14:14.655" (24 bytes).
func parseHAProxyDate(b []byte, loc *time.Location) (time.Time, bool) {
	if len(b) < 24 || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' || b[20] != '.' {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	day, ok1 := num(b[0:2])
	mon, ok2 := monthIndex[string(b[3:6])]
	year, ok3 := num(b[7:11])
	hh, ok4 := num(b[12:14])
	mm, ok5 := num(b[15:17])
	ss, ok6 := num(b[18:20])
	ms, ok7 := num(b[21:24])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, false
	}
	return time.Date(year, mon, day, hh, mm, ss, ms*1e6, loc), true
}
