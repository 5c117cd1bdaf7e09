// Package vectors runs request vectors through a policy: `varde policy
// test FILE VECTORS` and the tests of the ready-made policies (policies/)
// use it. A vectors file is JSON (docs/policies.md, "Vectors"):
//
//	{
//	  "proxy": "fe", "backends": ["app", "canary"],
//	  "servers": [{"name": "s1"}, {"name": "canary1", "weight": 2, "rtime_ms": 12}],
//	  "shared": {"mode": "green"},
//	  "vectors": [
//	    {"name": "header forces canary",
//	     "request": {"path": "/", "headers": {"X-Canary": "always"}},
//	     "expect": {"choose_backend": "canary", "choose_server": "canary1"}}
//	  ]
//	}
//
// An expected null means the entry point declines (returns nil) or fails;
// "errors": {"choose_server": "timeout"} expects a failure of that reason.
package vectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// File is a parsed vectors file.
type File struct {
	Proxy    string         `json:"proxy"`
	Backends []string       `json:"backends"`
	Timeout  string         `json:"timeout"`
	Servers  []Server       `json:"servers"`
	Shared   map[string]any `json:"shared"`
	Vectors  []Vector       `json:"vectors"`
}

// Server is a server's state in a vector.
type Server struct {
	Name    string  `json:"name"`
	Weight  *int    `json:"weight"`
	Up      *bool   `json:"up"`
	Admin   string  `json:"admin"` // ready, drain, maint
	Backup  bool    `json:"backup"`
	Active  int64   `json:"active"`
	Queue   int64   `json:"queue"`
	MaxConn int64   `json:"maxconn"`
	RTimeMS float64 `json:"rtime_ms"`
	Cookie  string  `json:"cookie"`
}

// Request is a vector's request.
type Request struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   string            `json:"query"`
	Host    string            `json:"host"`
	Src     string            `json:"src"`
	SSL     bool              `json:"ssl"`
	Headers map[string]string `json:"headers"`
	Cookies map[string]string `json:"cookies"`
}

// Check is a health probe result for the health entry point.
type Check struct {
	OK     bool   `json:"ok"`
	Status string `json:"status"`
	Code   int    `json:"code"`
	Info   string `json:"info"`
	Body   string `json:"body"`
}

// Vector is one case.
type Vector struct {
	Name    string                     `json:"name"`
	Request Request                    `json:"request"`
	Servers []Server                   `json:"servers"` // replaces the file's when set
	Shared  map[string]any             `json:"shared"`  // set before the vector runs
	Server  string                     `json:"server"`  // health: the probed server
	Check   *Check                     `json:"check"`   // health: the probe's result
	Expect  map[string]json.RawMessage `json:"expect"`
	Errors  map[string]string          `json:"errors"`
}

// Entry points a vector may expect.
var entries = map[string]bool{"choose_backend": true, "choose_server": true, "sticky_key": true, "health": true}

var reasons = map[string]bool{"error": true, "timeout": true, "memory": true, "type": true, "unknown": true, "unusable": true, "panic": true}

// Parse reads and validates a vectors file.
func Parse(data []byte) (*File, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("vectors: %w", err)
	}
	if dec.More() {
		return nil, errors.New("vectors: trailing data after the JSON object")
	}
	if len(f.Vectors) == 0 {
		return nil, errors.New("vectors: no vectors")
	}
	if err := checkServers(f.Servers); err != nil {
		return nil, err
	}
	for i := range f.Vectors {
		if err := f.Vectors[i].check(i); err != nil {
			return nil, err
		}
	}
	return &f, nil
}

func (v *Vector) check(i int) error {
	if v.Name == "" {
		v.Name = fmt.Sprintf("vector %d", i+1)
	}
	if len(v.Expect) == 0 && len(v.Errors) == 0 {
		return fmt.Errorf("vectors: %s: nothing expected (hint: \"expect\": {\"choose_backend\": \"app\"})", v.Name)
	}
	for e, raw := range v.Expect {
		if !entries[e] {
			return fmt.Errorf("vectors: %s: unknown entry point %q", v.Name, e)
		}
		var x any
		if err := json.Unmarshal(raw, &x); err != nil {
			return fmt.Errorf("vectors: %s: %s: %w", v.Name, e, err)
		}
		switch x.(type) {
		case nil, string:
		case bool:
			if e != "health" {
				return fmt.Errorf("vectors: %s: %s expects a name or null", v.Name, e)
			}
		default:
			return fmt.Errorf("vectors: %s: %s expects a name, true/false (health) or null", v.Name, e)
		}
	}
	for e, r := range v.Errors {
		if !entries[e] || !reasons[r] {
			return fmt.Errorf("vectors: %s: errors: %q: %q is not an entry point and reason", v.Name, e, r)
		}
	}
	if _, ok := v.Expect["health"]; ok && v.Check == nil {
		return fmt.Errorf("vectors: %s: health needs \"check\" (the probe result) and \"server\"", v.Name)
	}
	if v.Request.Src != "" && !validAddr(v.Request.Src) {
		return fmt.Errorf("vectors: %s: src %q is not an IP address", v.Name, v.Request.Src)
	}
	for k := range v.Request.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			return fmt.Errorf("vectors: %s: bad header name %q", v.Name, k)
		}
	}
	return checkServers(v.Servers)
}

func checkServers(ss []Server) error {
	seen := map[string]bool{}
	for _, s := range ss {
		if s.Name == "" || seen[s.Name] {
			return fmt.Errorf("vectors: server names must be set and unique (%q)", s.Name)
		}
		seen[s.Name] = true
		switch s.Admin {
		case "", "ready", "drain", "maint":
		default:
			return fmt.Errorf("vectors: server %s: admin %q is not ready, drain or maint", s.Name, s.Admin)
		}
		if s.Weight != nil && (*s.Weight < 0 || *s.Weight > 256) {
			return fmt.Errorf("vectors: server %s: weight %d out of 0..256", s.Name, *s.Weight)
		}
	}
	return nil
}
