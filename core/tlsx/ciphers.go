package tlsx

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
)

// OpenSSL cipher strings (`ciphers`, `ssl-default-bind-ciphers`) mapped to
// Go's crypto/tls. Go chooses the order of its suites itself, so a string
// maps to a SET of TLS 1.2 suites: OpenSSL's ordering operators (+NAME,
// @STRENGTH) change nothing. Every element must mean something Go can do:
//
//   - a cipher named by its OpenSSL name that Go does not implement
//     (DHE-RSA-AES128-GCM-SHA256, CAMELLIA128-SHA, RC4-SHA ...) is not
//     offered: a stricter set, never a weaker one. ParseCiphersDropped names
//     them so the configuration can warn (OpenSSL would offer them);
//   - an alias (HIGH, ECDHE+AESGCM, kRSA ...) selects the suites of the
//     table below that match it; those Go lacks are likewise not offered;
//   - a string that leaves NO suite Go implements is an error: varde would
//     have nothing to offer where HAProxy negotiates;
//   - a name or alias varde does not know is an error (OpenSSL would skip
//     it silently);
//   - @SECLEVEL and COMPLEMENTOFDEFAULT are errors (Go has no equivalent);
//   - RC4 suites are never offered (Go's RC4 is insecure, Debian's OpenSSL
//     does not build it).
//
// docs/tls.md has the table.

// suite is one OpenSSL cipher of the table; id is 0 when Go lacks it.
type suite struct {
	name     string
	id       uint16
	kx, au   string // key exchange (RSA, ECDHE, DHE, PSK, SRP), authentication (RSA, ECDSA, DSS, NULL, PSK, SRP)
	enc      string // AESGCM128, AESGCM256, AES128, AES256, CHACHA20, 3DES, RC4, CAMELLIA128 ...
	mac      string // AEAD, SHA1, SHA256, SHA384, MD5
	strength string // HIGH, MEDIUM, LOW, EXPORT
	tls12    bool   // needs TLS 1.2 (the OpenSSL alias TLSv1.2)
}

var suites = []suite{
	// Implemented by Go.
	{"ECDHE-ECDSA-AES128-GCM-SHA256", tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE", "ECDSA", "AESGCM128", "AEAD", "HIGH", true},
	{"ECDHE-RSA-AES128-GCM-SHA256", tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE", "RSA", "AESGCM128", "AEAD", "HIGH", true},
	{"ECDHE-ECDSA-AES256-GCM-SHA384", tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE", "ECDSA", "AESGCM256", "AEAD", "HIGH", true},
	{"ECDHE-RSA-AES256-GCM-SHA384", tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE", "RSA", "AESGCM256", "AEAD", "HIGH", true},
	{"ECDHE-ECDSA-CHACHA20-POLY1305", tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE", "ECDSA", "CHACHA20", "AEAD", "HIGH", true},
	{"ECDHE-RSA-CHACHA20-POLY1305", tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE", "RSA", "CHACHA20", "AEAD", "HIGH", true},
	{"ECDHE-ECDSA-AES128-SHA256", tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "ECDHE", "ECDSA", "AES128", "SHA256", "HIGH", true},
	{"ECDHE-RSA-AES128-SHA256", tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "ECDHE", "RSA", "AES128", "SHA256", "HIGH", true},
	{"ECDHE-ECDSA-AES128-SHA", tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "ECDHE", "ECDSA", "AES128", "SHA1", "HIGH", false},
	{"ECDHE-RSA-AES128-SHA", tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE", "RSA", "AES128", "SHA1", "HIGH", false},
	{"ECDHE-ECDSA-AES256-SHA", tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "ECDHE", "ECDSA", "AES256", "SHA1", "HIGH", false},
	{"ECDHE-RSA-AES256-SHA", tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE", "RSA", "AES256", "SHA1", "HIGH", false},
	{"AES128-GCM-SHA256", tls.TLS_RSA_WITH_AES_128_GCM_SHA256, "RSA", "RSA", "AESGCM128", "AEAD", "HIGH", true},
	{"AES256-GCM-SHA384", tls.TLS_RSA_WITH_AES_256_GCM_SHA384, "RSA", "RSA", "AESGCM256", "AEAD", "HIGH", true},
	{"AES128-SHA256", tls.TLS_RSA_WITH_AES_128_CBC_SHA256, "RSA", "RSA", "AES128", "SHA256", "HIGH", true},
	{"AES128-SHA", tls.TLS_RSA_WITH_AES_128_CBC_SHA, "RSA", "RSA", "AES128", "SHA1", "HIGH", false},
	{"AES256-SHA", tls.TLS_RSA_WITH_AES_256_CBC_SHA, "RSA", "RSA", "AES256", "SHA1", "HIGH", false},
	{"ECDHE-RSA-DES-CBC3-SHA", tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, "ECDHE", "RSA", "3DES", "SHA1", "MEDIUM", false},
	{"DES-CBC3-SHA", tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, "RSA", "RSA", "3DES", "SHA1", "MEDIUM", false},

	// Known to OpenSSL, not offered by varde (Go lacks them, or RC4).
	{"DHE-RSA-AES128-GCM-SHA256", 0, "DHE", "RSA", "AESGCM128", "AEAD", "HIGH", true},
	{"DHE-RSA-AES256-GCM-SHA384", 0, "DHE", "RSA", "AESGCM256", "AEAD", "HIGH", true},
	{"DHE-RSA-CHACHA20-POLY1305", 0, "DHE", "RSA", "CHACHA20", "AEAD", "HIGH", true},
	{"DHE-RSA-AES128-SHA256", 0, "DHE", "RSA", "AES128", "SHA256", "HIGH", true},
	{"DHE-RSA-AES256-SHA256", 0, "DHE", "RSA", "AES256", "SHA256", "HIGH", true},
	{"DHE-RSA-AES128-SHA", 0, "DHE", "RSA", "AES128", "SHA1", "HIGH", false},
	{"DHE-RSA-AES256-SHA", 0, "DHE", "RSA", "AES256", "SHA1", "HIGH", false},
	{"DHE-DSS-AES128-GCM-SHA256", 0, "DHE", "DSS", "AESGCM128", "AEAD", "HIGH", true},
	{"DHE-DSS-AES256-GCM-SHA384", 0, "DHE", "DSS", "AESGCM256", "AEAD", "HIGH", true},
	{"DHE-DSS-AES128-SHA256", 0, "DHE", "DSS", "AES128", "SHA256", "HIGH", true},
	{"DHE-DSS-AES256-SHA256", 0, "DHE", "DSS", "AES256", "SHA256", "HIGH", true},
	{"DHE-DSS-AES128-SHA", 0, "DHE", "DSS", "AES128", "SHA1", "HIGH", false},
	{"DHE-DSS-AES256-SHA", 0, "DHE", "DSS", "AES256", "SHA1", "HIGH", false},
	{"EDH-RSA-DES-CBC3-SHA", 0, "DHE", "RSA", "3DES", "SHA1", "MEDIUM", false},
	{"ECDHE-ECDSA-AES256-SHA384", 0, "ECDHE", "ECDSA", "AES256", "SHA384", "HIGH", true},
	{"ECDHE-RSA-AES256-SHA384", 0, "ECDHE", "RSA", "AES256", "SHA384", "HIGH", true},
	{"AES256-SHA256", 0, "RSA", "RSA", "AES256", "SHA256", "HIGH", true},
	{"ECDHE-ECDSA-AES128-CCM", 0, "ECDHE", "ECDSA", "AESCCM128", "AEAD", "HIGH", true},
	{"ECDHE-ECDSA-AES256-CCM", 0, "ECDHE", "ECDSA", "AESCCM256", "AEAD", "HIGH", true},
	{"ECDHE-ECDSA-AES128-CCM8", 0, "ECDHE", "ECDSA", "AESCCM8128", "AEAD", "HIGH", true},
	{"AES128-CCM", 0, "RSA", "RSA", "AESCCM128", "AEAD", "HIGH", true},
	{"AES256-CCM", 0, "RSA", "RSA", "AESCCM256", "AEAD", "HIGH", true},
	{"DHE-RSA-AES128-CCM", 0, "DHE", "RSA", "AESCCM128", "AEAD", "HIGH", true},
	{"DHE-RSA-AES256-CCM", 0, "DHE", "RSA", "AESCCM256", "AEAD", "HIGH", true},
	{"ECDHE-ECDSA-ARIA128-GCM-SHA256", 0, "ECDHE", "ECDSA", "ARIAGCM128", "AEAD", "HIGH", true},
	{"ECDHE-ARIA128-GCM-SHA256", 0, "ECDHE", "RSA", "ARIAGCM128", "AEAD", "HIGH", true},
	{"ECDHE-ECDSA-CAMELLIA128-SHA256", 0, "ECDHE", "ECDSA", "CAMELLIA128", "SHA256", "HIGH", true},
	{"ECDHE-RSA-CAMELLIA128-SHA256", 0, "ECDHE", "RSA", "CAMELLIA128", "SHA256", "HIGH", true},
	{"CAMELLIA128-SHA", 0, "RSA", "RSA", "CAMELLIA128", "SHA1", "HIGH", false},
	{"CAMELLIA256-SHA", 0, "RSA", "RSA", "CAMELLIA256", "SHA1", "HIGH", false},
	{"DHE-RSA-CAMELLIA128-SHA", 0, "DHE", "RSA", "CAMELLIA128", "SHA1", "HIGH", false},
	{"DHE-RSA-CAMELLIA256-SHA", 0, "DHE", "RSA", "CAMELLIA256", "SHA1", "HIGH", false},
	{"SEED-SHA", 0, "RSA", "RSA", "SEED", "SHA1", "MEDIUM", false},
	{"IDEA-CBC-SHA", 0, "RSA", "RSA", "IDEA", "SHA1", "MEDIUM", false},
	{"ECDHE-ECDSA-RC4-SHA", 0, "ECDHE", "ECDSA", "RC4", "SHA1", "MEDIUM", false},
	{"ECDHE-RSA-RC4-SHA", 0, "ECDHE", "RSA", "RC4", "SHA1", "MEDIUM", false},
	{"RC4-SHA", 0, "RSA", "RSA", "RC4", "SHA1", "MEDIUM", false},
	{"RC4-MD5", 0, "RSA", "RSA", "RC4", "MD5", "MEDIUM", false},
	{"DES-CBC-SHA", 0, "RSA", "RSA", "DES", "SHA1", "LOW", false},
	{"EXP-RC4-MD5", 0, "RSA", "RSA", "RC4", "MD5", "EXPORT", false},
	{"EXP-DES-CBC-SHA", 0, "RSA", "RSA", "DES", "SHA1", "EXPORT", false},
	{"ADH-AES128-GCM-SHA256", 0, "DHE", "NULL", "AESGCM128", "AEAD", "HIGH", true},
	{"ADH-AES256-GCM-SHA384", 0, "DHE", "NULL", "AESGCM256", "AEAD", "HIGH", true},
	{"ADH-AES128-SHA", 0, "DHE", "NULL", "AES128", "SHA1", "HIGH", false},
	{"AECDH-AES128-SHA", 0, "ECDHE", "NULL", "AES128", "SHA1", "HIGH", false},
	{"AECDH-AES256-SHA", 0, "ECDHE", "NULL", "AES256", "SHA1", "HIGH", false},
	{"PSK-AES128-GCM-SHA256", 0, "PSK", "PSK", "AESGCM128", "AEAD", "HIGH", true},
	{"PSK-AES256-GCM-SHA384", 0, "PSK", "PSK", "AESGCM256", "AEAD", "HIGH", true},
	{"ECDHE-PSK-CHACHA20-POLY1305", 0, "ECDHEPSK", "PSK", "CHACHA20", "AEAD", "HIGH", true},
	{"SRP-AES-128-CBC-SHA", 0, "SRP", "SRP", "AES128", "SHA1", "HIGH", false},
	{"NULL-SHA256", 0, "RSA", "RSA", "NULL", "SHA256", "", true},
	{"NULL-SHA", 0, "RSA", "RSA", "NULL", "SHA1", "", false},
	{"ECDHE-RSA-NULL-SHA", 0, "ECDHE", "RSA", "NULL", "SHA1", "", false},
	{"ECDHE-ECDSA-NULL-SHA", 0, "ECDHE", "ECDSA", "NULL", "SHA1", "", false},
}

// defaultSuites is Go's secure TLS 1.2 set (what it offers with no
// CipherSuites): DEFAULT and PROFILE=SYSTEM map to it.
func defaultSuites() []int {
	var out []int
	secure := map[uint16]bool{}
	for _, cs := range tls.CipherSuites() {
		secure[cs.ID] = true
	}
	for i, s := range suites {
		// Go's default list leaves out CBC-SHA256 and RSA key exchange.
		if s.id != 0 && secure[s.id] && s.kx == "ECDHE" && s.mac != "SHA256" {
			out = append(out, i)
		}
	}
	return out
}

// alias reports whether suite s is selected by one OpenSSL alias; known is
// false for a word that is neither an alias nor a cipher name.
func alias(word string, s *suite) (match, known bool) {
	enc := func(prefix string) bool { return strings.HasPrefix(s.enc, prefix) }
	switch word {
	case "ALL":
		return s.enc != "NULL", true
	case "COMPLEMENTOFALL", "eNULL", "NULL":
		return s.enc == "NULL", true
	case "HIGH", "MEDIUM", "LOW":
		return s.strength == word && s.enc != "NULL", true
	case "EXPORT", "EXP":
		return s.strength == "EXPORT", true
	case "aNULL":
		return s.au == "NULL", true
	case "ADH":
		return s.kx == "DHE" && s.au == "NULL", true
	case "AECDH":
		return s.kx == "ECDHE" && s.au == "NULL", true
	case "kRSA", "RSA":
		return s.kx == "RSA", true
	case "aRSA":
		return s.au == "RSA", true
	case "kECDHE", "kEECDH", "ECDH":
		return s.kx == "ECDHE", true
	case "ECDHE", "EECDH":
		return s.kx == "ECDHE" && s.au != "NULL", true
	case "aECDSA", "ECDSA":
		return s.au == "ECDSA", true
	case "kDHE", "kEDH", "DH":
		return s.kx == "DHE", true
	case "DHE", "EDH":
		return s.kx == "DHE" && s.au != "NULL", true
	case "aDSS", "DSS":
		return s.au == "DSS", true
	case "PSK", "kPSK", "aPSK":
		return s.au == "PSK", true
	case "kECDHEPSK", "ECDHEPSK":
		return s.kx == "ECDHEPSK", true
	case "SRP", "kSRP", "aSRP":
		return s.kx == "SRP", true
	case "AES":
		return enc("AES"), true
	case "AESGCM":
		return enc("AESGCM"), true
	case "AESCCM", "CCM":
		return enc("AESCCM"), true
	case "AESCCM8":
		return enc("AESCCM8"), true
	case "AES128":
		return enc("AES") && strings.HasSuffix(s.enc, "128"), true
	case "AES256":
		return enc("AES") && strings.HasSuffix(s.enc, "256"), true
	case "CHACHA20":
		return s.enc == "CHACHA20", true
	case "3DES":
		return s.enc == "3DES", true
	case "DES":
		return s.enc == "DES", true
	case "RC4":
		return s.enc == "RC4", true
	case "CAMELLIA":
		return enc("CAMELLIA"), true
	case "CAMELLIA128", "CAMELLIA256":
		return s.enc == word, true
	case "ARIA", "ARIAGCM":
		return enc("ARIA"), true
	case "SEED", "IDEA":
		return s.enc == word, true
	case "SHA1", "SHA":
		return s.mac == "SHA1", true
	case "SHA256", "SHA384", "MD5":
		return s.mac == word, true
	case "TLSv1.2":
		return s.tls12, true
	case "TLSv1", "TLSv1.0", "SSLv3":
		return !s.tls12, true
	}
	return false, false
}

// CipherError is a cipher string Go cannot honour.
type CipherError struct {
	Element string // the element at fault
	Msg     string
}

func (e *CipherError) Error() string { return fmt.Sprintf("cipher %q: %s", e.Element, e.Msg) }

// match evaluates one '+'-joined element (ECDHE+AESGCM) over the table.
func match(elem string) ([]int, error) {
	if elem == "DEFAULT" || elem == "PROFILE=SYSTEM" {
		return defaultSuites(), nil
	}
	if elem == "COMPLEMENTOFDEFAULT" || strings.HasPrefix(elem, "@SECLEVEL") {
		return nil, &CipherError{elem, "Go's TLS has no equivalent (remove it; Go applies its own key and signature checks)"}
	}
	for i := range suites {
		if suites[i].name == elem {
			return []int{i}, nil
		}
	}
	var out []int
	parts := strings.Split(elem, "+")
	for i := range suites {
		all := true
		for _, p := range parts {
			m, known := alias(p, &suites[i])
			if !known && ignoredByOpenSSL(p) {
				return nil, errIgnored
			}
			if !known {
				return nil, &CipherError{elem, fmt.Sprintf("%q is not a cipher or alias varde knows (see docs/tls.md)", p)}
			}
			all = all && m
		}
		if all {
			out = append(out, i)
		}
	}
	return out, nil
}

// ParseCiphers maps an OpenSSL cipher string to Go TLS 1.2 cipher suite
// IDs (see the comment at the top of this file). The result is never empty.
func ParseCiphers(s string) ([]uint16, error) {
	ids, _, err := ParseCiphersDropped(s)
	return ids, err
}

// ParseCiphersDropped is ParseCiphers that also names the suites the string
// names outright but Go does not implement (so they are not offered), in
// table order, for a configuration warning.
func ParseCiphersDropped(s string) (ids []uint16, dropped []string, err error) {
	r, err := ParseCipherReport(s)
	return r.IDs, r.Dropped, err
}

// CipherReport is what a cipher string gives: the suites offered, the
// suites it names that Go lacks (not offered), and the elements OpenSSL
// would skip because they select nothing (ciphers_ignored.go).
type CipherReport struct {
	IDs     []uint16
	Dropped []string
	Ignored []string
}

// ParseCipherReport is ParseCiphersDropped that also lists the ignored
// elements, for a configuration warning.
func ParseCipherReport(s string) (CipherReport, error) {
	var ignored []string
	ids, dropped, err := parseCiphers(s, &ignored)
	return CipherReport{IDs: ids, Dropped: dropped, Ignored: ignored}, err
}

func parseCiphers(s string, ignored *[]string) (ids []uint16, dropped []string, err error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil, &CipherError{s, "empty cipher string"}
	}
	lacking := map[int]bool{}
	in := map[int]bool{}
	banned := map[int]bool{}
	for _, raw := range strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		op, elem := byte(0), raw
		if c := raw[0]; c == '!' || c == '-' || c == '+' {
			op, elem = c, raw[1:]
		}
		if elem == "@STRENGTH" || elem == "STRENGTH" {
			continue // ordering only: Go orders its suites itself
		}
		sel, err := match(elem)
		if err == errIgnored {
			*ignored = append(*ignored, raw)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if len(sel) == 0 {
			return nil, nil, &CipherError{raw, "selects no cipher"}
		}
		switch op {
		case '+':
			// reorders only
		case '!', '-':
			for _, i := range sel {
				delete(in, i)
				delete(lacking, i)
				if op == '!' {
					banned[i] = true
				}
			}
		default:
			add(sel, in, banned, lacking, isName(elem))
		}
	}
	for i := range suites {
		switch {
		case in[i]:
			ids = append(ids, suites[i].id)
		case lacking[i] && !banned[i]:
			dropped = append(dropped, suites[i].name)
		}
	}
	if len(ids) == 0 {
		why := "selects no cipher suite Go implements"
		if len(dropped) > 0 && len(dropped) <= 8 {
			why += " (Go's TLS lacks " + strings.Join(dropped, ", ") + ")"
		}
		return nil, dropped, &CipherError{s, why}
	}
	return ids, dropped, nil
}

// add puts the Go-implemented suites of sel into the set; the others are
// never offered, and when the element named one outright (not through an
// alias such as HIGH, which OpenSSL users write knowing it is a filter) it
// is marked lacking, to be named in a warning.
func add(sel []int, in, banned, lacking map[int]bool, named bool) {
	for _, i := range sel {
		if suites[i].id == 0 || suites[i].enc == "RC4" {
			if named {
				lacking[i] = true
			}
			continue
		}
		if !banned[i] {
			in[i] = true
		}
	}
}

func isName(elem string) bool {
	for i := range suites {
		if suites[i].name == elem {
			return true
		}
	}
	return false
}

// tls13Suites are the TLS 1.3 suites Go always offers; they cannot be
// configured.
var tls13Suites = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}

// CheckCipherSuites validates a TLS 1.3 `ciphersuites` string: Go offers a
// fixed set, so only that exact set (any order) is accepted; anything else
// would make varde offer something other than what is written.
func CheckCipherSuites(s string) error {
	seen := map[string]bool{}
	for _, name := range strings.Split(s, ":") {
		if name == "" {
			continue
		}
		if !slices.Contains(tls13Suites, name) {
			return &CipherError{name, "Go's TLS 1.3 does not implement it; Go always offers exactly " + strings.Join(tls13Suites, ":")}
		}
		seen[name] = true
	}
	for _, name := range tls13Suites {
		if !seen[name] {
			return &CipherError{s, "Go's TLS 1.3 always offers " + name + " and cannot leave it out; write " + strings.Join(tls13Suites, ":")}
		}
	}
	return nil
}

// CipherName is the OpenSSL name of a negotiated suite, as HAProxy prints
// it (ssl_fc_cipher): TLS 1.3 suites keep their IANA names.
func CipherName(id uint16) string {
	for i := range suites {
		if suites[i].id == id && id != 0 {
			return suites[i].name
		}
	}
	switch id {
	case tls.TLS_AES_128_GCM_SHA256:
		return "TLS_AES_128_GCM_SHA256"
	case tls.TLS_AES_256_GCM_SHA384:
		return "TLS_AES_256_GCM_SHA384"
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		return "TLS_CHACHA20_POLY1305_SHA256"
	}
	return tls.CipherSuiteName(id)
}
