package config

import (
	"github.com/varde-lb/varde/core/diag"
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/core/sample"
)

// RuleCapture is `http-request capture SAMPLE len N|id N` or
// `http-response capture SAMPLE id N`: the sample is written, as text, in
// capture slot Slot of the frontend (Len: its length for the len form).
type RuleCapture struct {
	Expr string `json:"expr"`
	Slot int    `json:"slot"`
	Len  int    `json:"len,omitempty"`
}

func init() {
	registerRuleParser(parseCaptureRule, "capture")
}

// Capture slots are numbered per direction in the order of the lines
// that make them, as HAProxy: capture request|response header, declare
// capture, and http-request capture ... len N (which declares its own).

// parseDeclareCapture reads `declare capture request|response len N`.
func (p *parser) parseDeclareCapture(l Line, key string, words []Token) {
	if len(words) != 5 || (words[2].Text != "request" && words[2].Text != "response") || words[3].Text != "len" {
		p.d.Errorf(l.Pos, key, "declare capture request|response len N", "malformed declare capture")
		return
	}
	n, ok := p.intVal(words[4], key, 1, 65535)
	if !ok {
		return
	}
	p.addCaptureSlot(l, key, words[2].Text, n)
}

// addCaptureSlot appends a slot without a header; it returns its index.
func (p *parser) addCaptureSlot(l Line, key, what string, n int) (int, bool) {
	slot := p.captureSlots(what)
	if slot >= logrec.MaxCaptures {
		p.d.Errorf(l.Pos, key, "varde keeps "+strconv.Itoa(logrec.MaxCaptures)+" capture slots per direction", "too many %s captures", what)
		return 0, false
	}
	p.cur.Captures = append(p.cur.Captures, &Capture{Pos: l.Pos, What: what, Len: n})
	return slot, true
}

func (p *parser) captureSlots(what string) int {
	n := 0
	for _, c := range p.cur.Captures {
		if c.What == what {
			n++
		}
	}
	return n
}

// parseCaptureRule reads the capture action's SAMPLE len N | id N.
func parseCaptureRule(p *parser, key string, act Token, args []Token, r *HTTPRule) bool {
	resp := strings.HasPrefix(key, "http-response")
	usage := "http-request capture SAMPLE len N | id N"
	if resp {
		usage = "http-response capture SAMPLE id N"
	}
	if len(args) != 3 || (args[1].Text != "len" && args[1].Text != "id") || resp && args[1].Text != "id" {
		p.d.Errorf(act.Pos, key, usage, "malformed capture")
		return false
	}
	o := sample.Options{Where: sample.AtRequest, Place: "in http-request rules"}
	if resp {
		o = sample.Options{Where: sample.AtResponse, Place: "in http-response rules"}
	}
	if _, err := sample.Parse(args[0].Text, o); err != nil {
		reportSampleErr(p.d, args[0].Pos, key, err)
		return false
	}
	rc := &RuleCapture{Expr: args[0].Text}
	if args[1].Text == "id" {
		n, ok := p.intVal(args[2], key, 0, logrec.MaxCaptures-1)
		if !ok {
			return false
		}
		rc.Slot = n
		r.Capture = rc
		return true
	}
	if p.cur.Kind != KindFrontend && p.cur.Kind != KindListen {
		p.d.Errorf(act.Pos, key, "declare the slot in the frontend and use capture SAMPLE id N here", "capture ... len needs a frontend: its slot is the frontend's")
		return false
	}
	n, ok := p.intVal(args[2], key, 1, 65535)
	if !ok {
		return false
	}
	slot, ok := p.addCaptureSlot(Line{Pos: act.Pos}, key, "request", n)
	if !ok {
		return false
	}
	rc.Slot, rc.Len = slot, n
	r.Capture = rc
	return true
}

// validateCaptureIDs refuses, as HAProxy does, a capture ... id N rule of
// a frontend naming a slot the frontend does not have.
func (c *Config) validateCaptureIDs(d *diag.List) {
	for _, px := range c.Proxies {
		if !px.IsFrontend() {
			continue
		}
		nreq, nres := 0, 0
		for _, cp := range px.Captures {
			switch cp.What {
			case "request":
				nreq++
			case "response":
				nres++
			}
		}
		check := func(kw string, rules []*HTTPRule, n int) {
			for _, r := range rules {
				if r.Capture != nil && r.Capture.Len == 0 && r.Capture.Slot >= n && c.once(r) {
					d.Errorf(r.Pos, kw, "declare the slot with declare capture or a capture header line", "unable to find capture id %d (the frontend has %d)", r.Capture.Slot, n)
				}
			}
		}
		check("http-request capture", px.HTTPRequest, nreq)
		check("http-response capture", px.HTTPResponse, nres)
	}
}
