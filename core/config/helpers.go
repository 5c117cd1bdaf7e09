package config

import "time"

func (p *parser) duration(t Token, kw string) time.Duration {
	return p.durationUnit(t, kw, time.Millisecond)
}

func (p *parser) durationUnit(t Token, kw string, def time.Duration) time.Duration {
	v, err := parseDurationUnit(t.Text, def)
	if err != nil {
		p.d.Errorf(t.Pos, kw, "a number with an optional unit: us, ms, s, m, h, d (default ms), e.g. 5s", "%v", err)
		return 0
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
