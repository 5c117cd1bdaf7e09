package config

import "time"

// maxTimer is HAProxy's largest timer: its timers are 32-bit milliseconds.
const maxTimer = (1<<31 - 1) * time.Millisecond

// duration reads an HAProxy time value (default unit ms) bounded as
// HAProxy bounds it.
func (p *parser) duration(t Token, kw string) time.Duration {
	d := p.durationUnit(t, kw, time.Millisecond)
	if d > maxTimer {
		p.d.Errorf(t.Pos, kw, "use at most 24d (HAProxy's limit is 2147483647 ms)", "timer overflow: %s is too large", t.Text)
		return 0
	}
	return d
}

func (p *parser) durationUnit(t Token, kw string, def time.Duration) time.Duration {
	v, rest, err := parseDurationPrefix(t.Text, def)
	if err != nil {
		p.d.Errorf(t.Pos, kw, "a number with an optional unit: us, ms, s, m, h, d (default ms), e.g. 5s", "%v", err)
		return 0
	}
	if rest != "" {
		// HAProxy 2.6 keeps the value read so far and only warns.
		p.d.Warnf(t.Pos, kw, "remove the characters after the unit", "unexpected character '%c' after the timer value '%s', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported; taken as %s, as HAProxy 2.6 does", rest[0], t.Text, t.Text[:len(t.Text)-len(rest)])
	}
	return v
}

func (p *parser) size(t Token, kw string) int64 {
	v, err := ParseSize(t.Text)
	if err != nil {
		p.d.Errorf(t.Pos, kw, "a number with an optional k, m or g suffix, e.g. 100m", "%v", err)
		return 0
	}
	return v
}

func (p *parser) intVal(t Token, kw string, min, max int64) (int, bool) {
	n, err := ParseInt(t.Text, min, max)
	if err != nil {
		p.d.Errorf(t.Pos, kw, "write a whole number", "%v", err)
		return 0, false
	}
	return int(n), true
}
