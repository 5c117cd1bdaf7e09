// Package core holds varde's shared vocabulary: the live state of servers and
// backends, the read-only request view handed to algorithms and scripts, and
// the interfaces every built-in plugin and every Lua/WASM policy implements
// (server choice, backend choice, stickiness, health verdicts), with the
// registries plugins add themselves to from init().
//
// The engine (core/proxy), the HTTP codec (core/httpx), configuration
// (core/config) and health checking (core/health) live in sub-packages. This
// package imports none of them so that plugins depend on a small, stable API.
package core
