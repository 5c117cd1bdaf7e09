package logpipe

import (
	"fmt"
	"github.com/varde-lb/varde/core/httpx"
	"strings"
)

// Personal data beyond addresses: the classes the anonymiser masks and
// `varde logs audit` reports, found by one scanner (nextPII) so that what
// the anonymiser leaves, the audit accepts.
//
// The detectors are built to miss nothing a person would recognise while
// leaving the numbers an access log is full of alone (timers, byte counts,
// ports, dates, unix times, hex ids): a digit run counts only when no
// letter or digit touches it, and each class then needs its own proof:
// an e-mail address a domain with a top-level domain, a phone number a
// "+"/"00" country prefix, the Norwegian grouping or a phone-named
// parameter, a fødselsnummer a real date and both mod-11 check digits, a
// card number an issuer prefix and the Luhn check.

// PIIClass is a set of kinds of personal data.
type PIIClass uint8

const (
	PIIEmail PIIClass = 1 << iota // e-mail addresses
	PIIPhone                      // phone numbers: Norwegian, E.164
	PIIFnr                        // Norwegian national identity numbers (fødselsnummer, D-number, H-number)
	PIICard                       // payment card numbers
	PIIParam                      // values of named query parameters and cookies

	PIIDetected = PIIEmail | PIIPhone | PIIFnr | PIICard // found by their shape
)

var piiNames = []struct {
	c    PIIClass
	name string
}{{PIIEmail, "email"}, {PIIPhone, "phone"}, {PIIFnr, "fnr"}, {PIICard, "card"}, {PIIParam, "param"}}

// String names one class ("email"), or a set ("email,phone").
func (c PIIClass) String() string {
	var out []string
	for _, n := range piiNames {
		if c&n.c != 0 {
			out = append(out, n.name)
		}
	}
	return strings.Join(out, ",")
}

func (c PIIClass) index() int {
	for i, n := range piiNames {
		if c == n.c {
			return i
		}
	}
	return 0
}

// ParsePIIClasses reads "email,phone,fnr,card", "all" or "none".
func ParsePIIClasses(s string) (PIIClass, error) {
	switch s {
	case "all":
		return PIIDetected, nil
	case "none":
		return 0, nil
	}
	var c PIIClass
	for _, w := range strings.Split(s, ",") {
		found := false
		for _, n := range piiNames {
			if w == n.name && n.c != PIIParam {
				c |= n.c
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown personal data class %q (email, phone, fnr, card, all, none)", w)
		}
	}
	return c, nil
}

// MaskMode is how a finding is written.
type MaskMode uint8

const (
	MaskDrop     MaskMode = iota // a marker naming the class: [email]
	MaskHash                     // h- + 16 hex digits: HMAC with the target's rotating key
	MaskTruncate                 // keep what identifies nobody: the domain, the country code, a card's first 6 and last 4
)

var maskNames = []string{"drop", "hash", "truncate"}

func (m MaskMode) String() string { return maskNames[m] }

// PIISpec is what one target masks besides addresses.
type PIISpec struct {
	Classes PIIClass // PIIDetected classes to find; PIIParam is set when Params is not empty
	Params  []string // parameter and cookie names, lower case
	Masks   [5]MaskMode
}

// ParseMasks reads "MODE[,CLASS=MODE...]": the default mode, then
// per-class exceptions ("drop,card=truncate,param=hash").
func ParseMasks(s string) ([5]MaskMode, error) {
	var m [5]MaskMode
	for i, w := range strings.Split(s, ",") {
		cls, mode, per := strings.Cut(w, "=")
		if !per {
			mode = cls
		}
		mm := -1
		for k, n := range maskNames {
			if n == mode {
				mm = k
			}
		}
		if mm < 0 {
			return m, fmt.Errorf("unknown mask %q (drop, hash, truncate)", mode)
		}
		switch {
		case !per && i == 0:
			for k := range m {
				m[k] = MaskMode(mm)
			}
		case !per:
			return m, fmt.Errorf("mask %q: only the first mask may stand alone; write CLASS=MODE", w)
		default:
			found := false
			for k, n := range piiNames {
				if n.name == cls {
					m[k], found = MaskMode(mm), true
				}
			}
			if !found {
				return m, fmt.Errorf("mask %q: unknown class %q (email, phone, fnr, card, param)", w, cls)
			}
		}
	}
	return m, nil
}

// on reports whether anything is to be found.
func (p *PIISpec) on() bool { return p.Classes&PIIDetected != 0 || len(p.Params) > 0 }

// usesHash reports whether some class is hashed (a key is needed).
func (p *PIISpec) usesHash() bool {
	for i, n := range piiNames {
		if p.Masks[i] == MaskHash && (p.Classes&n.c != 0 || (n.c == PIIParam && len(p.Params) > 0)) {
			return true
		}
	}
	return false
}

// mayHoldPII is the cheap pre-check run on every request line and
// captured header: an '@' (or %40), a '=' when parameters are watched, or
// a run of 8 digits. Most lines have none of them.
func (p *PIISpec) mayHoldPII(v []byte) bool {
	run := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !piiStart[c] && c != ' ' && c != '-' {
			run = 0
			continue
		}
		switch {
		case c >= '0' && c <= '9':
			if run++; run >= 8 && p.Classes&(PIIPhone|PIIFnr|PIICard) != 0 {
				return true
			}
			continue
		case c == '@' && p.Classes&PIIEmail != 0:
			return true
		case c == '=' && len(p.Params) > 0:
			return true
		case c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			if v[i+1] == '4' && v[i+2] == '0' && p.Classes&PIIEmail != 0 {
				return true
			}
			i += 2 // an escape (%20, %2D, %2B) keeps the run going
			continue
		case c == ' ' || c == '-' || c == '+':
			continue // a group separator keeps the run going
		}
		run = 0
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'z' }
func isHex(c byte) bool   { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

// wordy: a byte a number cannot start right after: a letter or digit, or
// the end of a mask (']' of a marker, '*' of a truncation), so that what
// the anonymiser writes next to a mask reads as it did next to the value.
func wordy(c byte) bool { return isAlnum(c) || c == ']' || c == '*' }

// nextPII finds the first finding at or after from: its span and class.
// A param finding's span is the value only.
func (p *PIISpec) nextPII(v []byte, from int) (start, end int, class PIIClass, ok bool) {
	for i := from; i < len(v); i++ {
		c := v[i]
		if !piiStart[c] {
			continue // most bytes start nothing: one table lookup
		}
		switch {
		case c == 'h' && i+18 <= len(v) && v[i+1] == '-' && (i == 0 || !isAlnum(v[i-1])) && isPseudonym(v[i:]):
			i += 17 // a pseudonym of ours: never a finding
		case isDigit(c) || c == '+':
			if isDigit(c) && i > 0 && wordy(v[i-1]) && !afterEscape(v, i) {
				for i+1 < len(v) && isAlnum(v[i+1]) {
					i++ // inside a word or hex id
				}
				continue
			}
			if isDigit(c) && afterGroup(v, i, from) {
				// The tail of a run of groups: judged as a whole from its
				// start, here only as a group of its own.
				if s, e, cl, ok := p.singleGroup(v, i); ok {
					return s, e, cl, true
				}
				for i+1 < len(v) && isDigit(v[i+1]) {
					i++
				}
				continue
			}
			if c == '+' && i > 0 && wordy(v[i-1]) {
				continue // "a+1234...": a form-encoded space inside text, or arithmetic
			}
			if s, e, cl, ok := p.number(v, i); ok {
				return s, e, cl, true
			}
		case c == '@' && p.Classes&PIIEmail != 0:
			if s, e, ok := email(v, from, i, i+1); ok {
				return s, e, PIIEmail, true
			}
		case c == '=' && len(p.Params) > 0:
			if s, e, ok := p.param(v, i); ok {
				return s, e, PIIParam, true
			}
		case c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			switch {
			case v[i+1] == '2' && v[i+2]|0x20 == 'b' && (i == 0 || !wordy(v[i-1])):
				if s, e, cl, ok := p.number(v, i); ok {
					return s, e, cl, true
				}
			case v[i+1] == '4' && v[i+2] == '0' && p.Classes&PIIEmail != 0:
				if s, e, ok := email(v, from, i, i+3); ok {
					return s, e, PIIEmail, true
				}
			}
			i += 2 // an escape separates like the byte it stands for
		}
	}
	return 0, 0, 0, false
}

// afterGroup reports whether v[i] follows a digit and a group separator,
// at or after from (a finding that ended there ends the run).
func afterGroup(v []byte, i, from int) bool {
	return i-2 >= from && (v[i-1] == ' ' || v[i-1] == '-') && isDigit(v[i-2]) ||
		i-4 >= from && v[i-3] == '%' && v[i-2] == '2' && (v[i-1] == '0' || v[i-1]|0x20 == 'd') && isDigit(v[i-4])
}

// afterEscape reports whether v[i] follows a %XX escape.
func afterEscape(v []byte, i int) bool {
	return i >= 3 && v[i-3] == '%' && isHex(v[i-2]) && isHex(v[i-1])
}

// piiStart marks the bytes a finding (or a pseudonym to skip) can start
// with.
var piiStart = func() (t [256]bool) {
	for _, c := range []byte("0123456789+@=%h") {
		t[c] = true
	}
	return t
}()

// isPseudonym matches h- + 16 lower-case hex digits, not followed by more.
func isPseudonym(v []byte) bool {
	if len(v) < 18 || v[0] != 'h' || v[1] != '-' {
		return false
	}
	for _, c := range v[2:18] {
		if !isDigit(c) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return len(v) == 18 || !isAlnum(v[18])
}

// sep reports a digit-group separator at v[i] and its width: a space, a
// dash, or their %-escapes (%20, %2D).
func sep(v []byte, i int) int {
	switch {
	case i >= len(v):
		return 0
	case v[i] == ' ' || v[i] == '-':
		return 1
	case v[i] == '%' && i+2 < len(v) && v[i+1] == '2' && (v[i+2] == '0' || v[i+2]|0x20 == 'd'):
		return 3
	}
	return 0
}

// numInfo is a run of digit groups split by single separators: the
// digits (at most 20), each group's length and end.
type numInfo struct {
	digits  [20]byte
	n       int
	groups  [6]int
	ends    [6]int
	ngroups int
	end     int
}

// readNumber reads the digit groups from v[i]. It stops before a group
// that would make more than 6 groups or 20 digits, or that runs into a
// word; ok is false when not even the first group qualifies.
func readNumber(v []byte, i int) (ni numInfo, ok bool) {
	for {
		j := i
		for j < len(v) && isDigit(v[j]) {
			j++
		}
		g := j - i
		word := j < len(v) && isAlnum(v[j])
		if g == 0 || word || ni.n+g > len(ni.digits) || ni.ngroups == len(ni.groups) {
			return ni, ni.ngroups > 0 // digits running into a word are an id, not a number
		}
		copy(ni.digits[ni.n:], v[i:j])
		ni.n += g
		ni.groups[ni.ngroups], ni.ends[ni.ngroups] = g, j
		ni.ngroups++
		ni.end = j
		w := sep(v, j)
		if w == 0 || j+w >= len(v) || !isDigit(v[j+w]) {
			return ni, true
		}
		i = j + w
	}
}

// prefix is ni cut to its first k groups.
func (ni numInfo) prefix(k int) numInfo {
	n := 0
	for _, g := range ni.groups[:k] {
		n += g
	}
	ni.n, ni.ngroups, ni.end = n, k, ni.ends[k-1]
	return ni
}

// number judges the digit groups starting at v[i] (after a '+', "%2B" or
// "00" prefix for phones): the longest run of whole groups that is a
// finding wins, so a number followed by another ("4111 1111 1111 1111
// 24129910182") is found as itself.
func (p *PIISpec) number(v []byte, i int) (start, end int, class PIIClass, ok bool) {
	start = i
	plus := false
	switch {
	case v[i] == '+':
		plus, i = true, i+1
	case v[i] == '%':
		if i+2 < len(v) && v[i+1] == '2' && v[i+2]|0x20 == 'b' {
			plus, i = true, i+3
		} else {
			return 0, 0, 0, false
		}
	}
	if i >= len(v) || !isDigit(v[i]) {
		return 0, 0, 0, false
	}
	all, ok := readNumber(v, i)
	if !ok {
		return 0, 0, 0, false
	}
	for k := all.ngroups; k >= 1; k-- {
		ni := all.prefix(k)
		if cl, ok := p.judge(&ni, plus, v, start); ok {
			return start, ni.end, cl, true
		}
	}
	return 0, 0, 0, false
}

// judge says which class, if any, the digit groups ni are.
func (p *PIISpec) judge(ni *numInfo, plus bool, v []byte, start int) (PIIClass, bool) {
	d := ni.digits[:ni.n]
	switch {
	case p.Classes&PIIPhone != 0 && (plus || (ni.n > 2 && d[0] == '0' && d[1] == '0')) && intlPhone(d, plus):
		return PIIPhone, true
	case plus:
		return 0, false
	case p.Classes&PIICard != 0 && cardGroups(ni) && card(d):
		return PIICard, true
	case p.Classes&PIIFnr != 0 && ni.n == 11 && (ni.ngroups == 1 || ni.ngroups == 2 && ni.groups[0] == 6) && fnr(d):
		return PIIFnr, true
	case p.Classes&PIIPhone != 0 && ni.n == 8 && norwegianGrouping(ni) && norwegianNumber(d):
		return PIIPhone, true
	case p.Classes&PIIPhone != 0 && ni.n == 8 && ni.ngroups == 1 && norwegianNumber(d) && phoneContext(v, start):
		return PIIPhone, true
	}
	return 0, false
}

// singleGroup judges the one digit group at v[i:] on its own: a card
// number written as one run, or a fødselsnummer.
func (p *PIISpec) singleGroup(v []byte, i int) (start, end int, class PIIClass, ok bool) {
	j := i
	for j < len(v) && isDigit(v[j]) {
		j++
	}
	if j < len(v) && isAlnum(v[j]) {
		return 0, 0, 0, false
	}
	switch d := v[i:j]; {
	case p.Classes&PIICard != 0 && len(d) >= 13 && len(d) <= 19 && card(d):
		return i, j, PIICard, true
	case p.Classes&PIIFnr != 0 && len(d) == 11 && fnr(d):
		return i, j, PIIFnr, true
	}
	return 0, 0, 0, false
}

// intlPhone: +CC... or 00CC... with 8 to 15 digits (E.164); +47/0047
// must be followed by exactly 8 digits of a Norwegian number.
func intlPhone(d []byte, plus bool) bool {
	if !plus {
		d = d[2:]
	}
	if len(d) < 8 || len(d) > 15 || d[0] == '0' {
		return false
	}
	if d[0] == '4' && d[1] == '7' {
		return len(d) == 10 && norwegianNumber(d[2:])
	}
	return true
}

// norwegianNumber: 8 digits in the ranges a person is called on (2-9;
// mobiles start with 4 or 9; 0 and 1 are not subscriber numbers).
func norwegianNumber(d []byte) bool { return len(d) == 8 && d[0] >= '2' }

// norwegianGrouping: "412 34 567" or "41 23 45 67", as Norwegians write them.
func norwegianGrouping(ni *numInfo) bool {
	g := ni.groups[:ni.ngroups]
	return len(g) == 3 && g[0] == 3 && g[1] == 2 && g[2] == 3 ||
		len(g) == 4 && g[0] == 2 && g[1] == 2 && g[2] == 2 && g[3] == 2
}

// phoneContext: a bare 8-digit number counts as a phone number when it is
// the value of a parameter whose name says so (tel=, phone=, mobil=...).
func phoneContext(v []byte, start int) bool {
	if start == 0 || v[start-1] != '=' {
		return false
	}
	j := start - 1
	for j > 0 && (isAlnum(v[j-1]) || v[j-1] == '_' || v[j-1] == '-') {
		j--
	}
	name := strings.ToLower(string(v[j : start-1]))
	for _, k := range []string{"tel", "phone", "mobil", "msisdn", "sms", "telefon"} {
		if strings.Contains(name, k) {
			return true
		}
	}
	return false
}

// cardGroups: one run, or groups of 4 (the last 1..4), or Amex 4-6-5.
func cardGroups(ni *numInfo) bool {
	if ni.n < 13 || ni.n > 19 {
		return false
	}
	g := ni.groups[:ni.ngroups]
	if len(g) == 1 {
		return true
	}
	if len(g) == 3 && g[0] == 4 && g[1] == 6 && g[2] == 5 {
		return true
	}
	for i, n := range g {
		if n != 4 && !(i == len(g)-1 && n < 4) {
			return false
		}
	}
	return true
}

// card: an issuer prefix of the major networks and the Luhn check.
func card(d []byte) bool {
	n := len(d)
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p4 := p2*100 + int(d[2]-'0')*10 + int(d[3]-'0')
	switch {
	case d[0] == '4': // Visa
		if n != 13 && n != 16 && n != 19 {
			return false
		}
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		if n != 16 {
			return false
		}
	case p2 == 34 || p2 == 37: // American Express
		if n != 15 {
			return false
		}
	case p4 == 6011 || p2 == 65 || p4/10 >= 644 && p4/10 <= 649, p2 == 62: // Discover, UnionPay
		if n < 16 {
			return false
		}
	case p4 >= 3528 && p4 <= 3589: // JCB
		if n < 16 {
			return false
		}
	case p2 == 36 || p2 == 38 || p4/10 >= 300 && p4/10 <= 305: // Diners
		if n < 14 {
			return false
		}
	case p2 == 50 || p2 >= 56 && p2 <= 69: // Maestro
	default:
		return false
	}
	return luhn(d)
}

func luhn(d []byte) bool {
	sum := 0
	for i := 0; i < len(d); i++ {
		x := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			if x *= 2; x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	return sum%10 == 0
}

// fnr checks a Norwegian national identity number: DDMMYY (day + 40 for a
// D-number, month + 40 for an H-number, a real date) and the two mod-11
// check digits.
func fnr(d []byte) bool {
	num := func(i int) int { return int(d[i]-'0')*10 + int(d[i+1]-'0') }
	day, month, year := num(0), num(2), num(4)
	if day > 40 {
		day -= 40
	}
	if month > 40 {
		month -= 40
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return false
	}
	k1w := [9]int{3, 7, 6, 1, 8, 9, 4, 5, 2}
	k2w := [10]int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	s := 0
	for i, w := range k1w {
		s += int(d[i]-'0') * w
	}
	k1 := 11 - s%11
	if k1 == 11 {
		k1 = 0
	}
	if k1 == 10 || k1 != int(d[9]-'0') {
		return false
	}
	s = 0
	for i, w := range k2w {
		s += int(d[i]-'0') * w
	}
	k2 := 11 - s%11
	if k2 == 11 {
		k2 = 0
	}
	return k2 != 10 && k2 == int(d[10]-'0')
}

// daysIn: the year is two digits, so 29 February is allowed when it is a
// leap year in either century the number may be from.
func daysIn(month, yy int) int {
	switch month {
	case 2:
		if yy%4 == 0 {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// emailLocal are the bytes of an address's local part (with %-escapes).
func emailLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// email checks for local@domain.tld around the '@' at at (written as
// "%40" when rest - at == 3), the local part starting at lo or later, and
// returns the address's span.
func email(v []byte, lo, at, rest int) (start, end int, ok bool) {
	s := at
	for s > lo && emailLocal(v[s-1]) && !(s-3 >= lo && v[s-3] == '%' && v[s-2] == '4' && v[s-1] == '0') {
		s--
	}
	for s < at && (v[s] == '.' || v[s] == '-') {
		s++
	}
	if s == at {
		return 0, 0, false
	}
	// domain: labels of [A-Za-z0-9-], at least two, the last alphabetic.
	e, labels, lastAlpha, label := rest, 0, true, 0
	for e < len(v) {
		c := v[e]
		switch {
		case isAlnum(c) || c == '-' && label > 0:
			if !(c|0x20 >= 'a' && c|0x20 <= 'z') {
				lastAlpha = false
			}
			label++
			e++
			continue
		case c == '.' && label > 0 && e+1 < len(v) && isAlnum(v[e+1]):
			labels++
			label, lastAlpha = 0, true
			e++
			continue
		}
		break
	}
	if label > 0 {
		labels++
	}
	if labels < 2 || label < 2 || !lastAlpha || e < len(v) && (v[e] == '@' || v[e] == '%' && e+2 < len(v) && v[e+1] == '4' && v[e+2] == '0') {
		return 0, 0, false // "a@b.c@d.e": the address is the last one
	}
	return s, e, true
}

// param finds NAME=VALUE around the '=' at eq, NAME being watched, after a
// query/cookie delimiter; the span is the value.
func (p *PIISpec) param(v []byte, eq int) (start, end int, ok bool) {
	j := eq
	for j > 0 && !paramDelim(v[j-1]) {
		j--
	}
	name := v[j:eq]
	for len(name) > 0 && name[0] == ' ' {
		name = name[1:]
	}
	if len(name) == 0 || !p.watched(name) {
		return 0, 0, false
	}
	e := eq + 1
	for e < len(v) && !valueEnd(v[e]) {
		e++
	}
	if e == eq+1 || maskedValue(v[eq+1:e]) {
		return 0, 0, false
	}
	return eq + 1, e, true
}

func paramDelim(c byte) bool {
	switch c {
	case '?', '&', ';', ',', '{', '|', '"', '/', ' ':
		return true
	}
	return false
}

func valueEnd(c byte) bool {
	switch c {
	case '&', ';', ',', ' ', '#', '"', '|', '}':
		return true
	}
	return false
}

func (p *PIISpec) watched(name []byte) bool {
	for _, n := range p.Params {
		if len(n) == len(name) && httpx.EqualFold(name, n) {
			return true
		}
	}
	return false
}

// maskedValue reports a value the anonymiser wrote: a marker, a pseudonym
// or a truncation. The audit does not count those.
func maskedValue(v []byte) bool {
	return len(v) > 2 && v[0] == '[' && v[len(v)-1] == ']' || isPseudonym(v) && len(v) == 18 ||
		len(v) > 0 && (v[len(v)-1] == '*' || v[0] == '*')
}
