package logpipe

import (
	"fmt"
	"sort"
	"strings"
)

// DefaultAuditParams are the query parameter and cookie names whose
// values the audit reports as personal data when no --params is given:
// contact details, identity numbers, credentials and session identifiers
// (online identifiers, GDPR recital 30).
var DefaultAuditParams = []string{"email", "e-mail", "mail", "phone", "tel", "mobile", "msisdn", "fnr", "ssn",
	"personnummer", "fodselsnummer", "password", "passwd", "pwd", "token", "access_token", "id_token",
	"refresh_token", "session", "sessionid", "session_id", "sid", "jsessionid", "phpsessid", "api_key", "apikey"}

// DefaultAuditPII is what the audit looks for without options: every
// class, DefaultAuditParams.
func DefaultAuditPII() *PIISpec {
	return &PIISpec{Classes: PIIDetected, Params: DefaultAuditParams}
}

// PIIFinding is one piece of personal data found in a log file, masked
// (truncated, never the value) for the report.
type PIIFinding struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Field  string `json:"field"` // request, captured request header, captured cookie, text, ...
	Class  string `json:"class"` // email, phone, fnr, card, param
	Masked string `json:"masked"`
}

// scanPII reports every finding of o.PII in b.
func scanPII(fr *FileReport, b []byte, line int, field string, o AuditOptions) {
	p := o.PII
	if p == nil || !p.on() || !p.mayHoldPII(b) {
		return
	}
	for from := 0; ; {
		s, e, cl, ok := p.nextPII(b, from)
		if !ok {
			return
		}
		from = e
		if fr.PII == nil {
			fr.PII = map[string]int{}
		}
		name := cl.String()
		fr.PII[name]++
		if fr.piiSamples(name) >= o.MaxFindings {
			continue
		}
		masked := string(truncateFinding(nil, b[s:e], cl))
		if cl == PIIParam {
			masked = paramName(b, s) + "=" + masked
		}
		fr.PIIFindings = append(fr.PIIFindings, PIIFinding{File: fr.Path, Line: line, Field: field, Class: name, Masked: masked})
	}
}

func (fr *FileReport) piiSamples(class string) int {
	n := 0
	for _, f := range fr.PIIFindings {
		if f.Class == class {
			n++
		}
	}
	return n
}

// paramName is the name before the '=' that ends at s-1.
func paramName(b []byte, s int) string {
	j := s - 1
	for j > 0 && !paramDelim(b[j-1]) {
		j--
	}
	return strings.TrimSpace(string(b[j : s-1]))
}

// piiProblem is the file's problem line for its personal data, e.g.
// "personal data found: email 3, phone 1".
func piiProblem(counts map[string]int) string {
	if len(counts) == 0 {
		return ""
	}
	var parts []string
	for _, n := range piiNames {
		if c := counts[n.name]; c > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", n.name, c))
		}
	}
	return "personal data found: " + strings.Join(parts, ", ")
}

// summarise fills the report's per-class totals ("ip" for raw addresses).
func (rep *Report) summarise() {
	rep.Classes = map[string]int{}
	for _, f := range rep.Files {
		if f.RawAddresses > 0 {
			rep.Classes["ip"] += f.RawAddresses
		}
		for k, v := range f.PII {
			rep.Classes[k] += v
		}
	}
}

// ClassNames returns the classes with findings, in report order.
func (rep *Report) ClassNames() []string {
	var out []string
	for k := range rep.Classes {
		out = append(out, k)
	}
	order := map[string]int{"ip": 0}
	for i, n := range piiNames {
		order[n.name] = i + 1
	}
	sort.Slice(out, func(i, j int) bool { return order[out[i]] < order[out[j]] })
	return out
}
