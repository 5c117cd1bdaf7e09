package config

import (
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// The personal-data words of `anonymize` (logpipe/pii.go implements them;
// the names are checked here so that `varde check` refuses a typo at its
// line).
var (
	piiClasses = []string{"email", "phone", "fnr", "card"}
	piiMasks   = []string{"drop", "hash", "truncate"}
)

// parseAnonymizePII reads `pii CLASSES`, `params NAMES` or `mask MASKS`
// (m is the word after `anonymize`) into a.
func (p *parser) parseAnonymizePII(a *Anonymize, m Token, args []Token, i *int) {
	const key = "log anonymize"
	if *i+1 >= len(args) {
		p.d.Errorf(m.Pos, key, "anonymize pii email,phone,fnr,card | anonymize params NAME,... | anonymize mask drop|hash|truncate[,CLASS=MASK]", "anonymize %s needs a value", m.Text)
		return
	}
	*i++
	v := args[*i]
	switch m.Text {
	case "pii":
		if v.Text != "all" && v.Text != "none" {
			for _, c := range strings.Split(v.Text, ",") {
				if !contains(piiClasses, c) {
					p.d.Errorf(v.Pos, key, hintNearest(c, append(piiClasses, "all", "none"), "email, phone, fnr, card, all or none"), "unknown personal data class %q", c)
					return
				}
			}
		}
		a.PII = v.Text
	case "params":
		for _, n := range strings.Split(v.Text, ",") {
			if n == "" || strings.ContainsAny(n, "=;&?# ") {
				p.d.Errorf(v.Pos, key, "parameter and cookie names separated by commas, e.g. email,token,session", "invalid parameter name %q", n)
				return
			}
			a.Params = append(a.Params, strings.ToLower(n))
		}
	case "mask":
		for k, w := range strings.Split(v.Text, ",") {
			cls, mode, per := strings.Cut(w, "=")
			if !per {
				mode = cls
			}
			switch {
			case !contains(piiMasks, mode):
				p.d.Errorf(v.Pos, key, "drop, hash or truncate", "unknown mask %q", mode)
				return
			case !per && k > 0:
				p.d.Errorf(v.Pos, key, "write the default mask first, then CLASS=MASK, e.g. drop,card=truncate", "mask %q must name its class", w)
				return
			case per && !contains(append(piiClasses, "param"), cls):
				p.d.Errorf(v.Pos, key, "email, phone, fnr, card or param", "unknown personal data class %q in mask %q", cls, w)
				return
			}
		}
		a.Mask = v.Text
	}
}

// checkAnonymize refuses what cannot work once the whole line is read: a
// hash mask needs the hmac keys it hashes with.
func (p *parser) checkAnonymize(lg *Log, pos diag.Pos) {
	a := lg.Anonymize
	if a == nil || a.Mode == "hmac" || !strings.Contains(a.Mask, "hash") {
		return
	}
	p.d.Errorf(pos, "log anonymize", "add `anonymize hmac KEYFILE rotate 1d` to the line, or mask with drop or truncate", "anonymize mask hash needs the keys of anonymize hmac")
}
