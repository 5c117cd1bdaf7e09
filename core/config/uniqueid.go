package config

import (
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/sample"
)

// parseUniqueID reads `unique-id-format FMT` (a log-format string, one
// word: quote it) and `unique-id-header NAME`. The format is compiled here
// so that `varde check` names the line of an item varde cannot build.
func (p *parser) parseUniqueID(key string, at diag.Pos, args []Token) {
	if len(args) != 1 {
		hint := "quote the format: unique-id-format \"%[uuid()]\""
		if key == "unique-id-header" {
			hint = "unique-id-header X-Request-ID"
		}
		p.d.Errorf(at, key, hint, "%s expects one argument, got %d", key, len(args))
		return
	}
	if key == "unique-id-header" {
		p.cur.UniqueIDHeader = args[0].Text
		return
	}
	// Evaluated at request time, or at log time for a request answered
	// before (HAProxy generates it when first needed).
	o := sample.Options{Where: sample.AtRequest, Place: "in unique-id-format"}
	if _, err := sample.ParseTemplate(args[0].Text, o); err != nil {
		reportSampleErr(p.d, args[0].Pos, key, err)
		return
	}
	p.cur.UniqueIDFormat = &StringAt{Value: args[0].Text, Pos: args[0].Pos}
}
