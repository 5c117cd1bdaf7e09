package config

import "github.com/varde-lb/varde/core/diag"

// finish runs after the last file has been parsed.
func (p *parser) finish() {}

// Validate checks cross-references and consistency and reports keywords
// that are parsed but not yet enforced.
func (c *Config) Validate(d *diag.List) {}
