package tlsx

import (
	"errors"
	"strings"
)

// OpenSSL skips, without a word, a cipher-string element whose word names
// no cipher and no alias it knows ("DH+AE$", a typo for DH+AES, or
// "FOOBAR"), as long as the whole string selects something; HAProxy
// therefore accepts such strings. varde does the same, with a warning
// naming the element, only when it knows OpenSSL has nothing by that word
// either: a word OpenSSL knows but varde does not model (opensslOnly, or
// anything shaped like a cipher name) stays an error, since skipping it
// could make varde offer other suites than OpenSSL.
//
// OpenSSL reads a word as a run of letters, digits, '-', '.' and '=';
// after an unknown word it skips the rest of the element, so "AE$" is the
// unknown word "AE". A known word followed by other characters ("AES$")
// makes OpenSSL refuse the whole string: varde refuses it too.

// errIgnored marks an element OpenSSL would skip.
var errIgnored = errors.New("selects nothing, as in OpenSSL")

// opensslOnly are OpenSSL 3.0 aliases and keywords varde's table does not
// model: varde cannot tell what they select, so they are errors, never
// skipped.
var opensslOnly = map[string]bool{
	"kDHr": true, "kDHd": true, "kECDHr": true, "kECDHe": true, "aECDH": true,
	"kRSAPSK": true, "kDHEPSK": true, "RSAPSK": true, "DHEPSK": true,
	"kGOST": true, "kGOST18": true, "aGOST": true, "aGOST01": true, "aGOST12": true,
	"GOST94": true, "GOST89MAC": true, "GOST12": true, "GOST89MAC12": true, "GOST89": true,
	"MAGMA": true, "KUZNYECHIK": true, "RC2": true, "CBC": true, "FIPS": true, "aKRB5": true, "kKRB5": true, "KRB5": true,
	"ARIA128": true, "ARIA256": true, "SUITEB128": true, "SUITEB128ONLY": true, "SUITEB128C2": true, "SUITEB192": true,
	"TLSv1.1": true, "TLSv1.3": true, "SSLv2": true, "kFZA": true, "aFZA": true, "eFZA": true, "FZA": true,
}

// opensslWord is the word OpenSSL reads at the start of p.
func opensslWord(p string) string {
	i := 0
	for i < len(p) {
		c := p[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '=' {
			i++
			continue
		}
		break
	}
	return p[:i]
}

// knownWord reports whether varde's table knows w as a cipher or alias.
func knownWord(w string) bool {
	switch w {
	case "DEFAULT", "PROFILE=SYSTEM", "COMPLEMENTOFDEFAULT", "STRENGTH":
		return true
	}
	if isName(w) {
		return true
	}
	_, known := alias(w, &suites[0])
	return known
}

// ignoredByOpenSSL reports whether OpenSSL selects nothing for an element
// holding the unknown part p, and does not refuse the string for it.
func ignoredByOpenSSL(p string) bool {
	w := opensslWord(p)
	if w == "" || knownWord(w) || opensslOnly[w] {
		return false
	}
	if strings.Contains(w, "-") {
		return legacyName(w)
	}
	return true
}

// legacyName reports a cipher name of the families OpenSSL 3.0 as Debian
// builds it (HAProxy 2.6's library there) does not provide at all, at any
// security level: 3DES, single DES, RC4, RC2, IDEA, SEED and the export
// suites. OpenSSL selects nothing for them, so the old cipher lists many
// configs still carry (ECDHE-RSA-DES-CBC3-SHA, RC4-SHA) run unchanged
// under HAProxy; varde skips them the same way. TestIgnoredCipherWordsAsOpenSSL
// checks each family against the openssl binary.
func legacyName(w string) bool {
	for _, part := range strings.Split(w, "-") {
		switch part {
		case "DES", "CBC3", "RC4", "RC2", "IDEA", "SEED", "EXP", "EXP1024":
			return true
		}
	}
	return false
}
