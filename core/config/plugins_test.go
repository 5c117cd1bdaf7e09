package config_test

// The configuration layer looks algorithms, hash functions, probes and log
// sinks up in core's registries; its tests link every built-in plugin, as
// the varde binary does. (An external test package, so that plugins, which
// import core/config through logpipe, make no import cycle.)
import _ "github.com/varde-lb/varde/plugins/all"
