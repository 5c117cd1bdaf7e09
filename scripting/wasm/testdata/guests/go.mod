module guests

go 1.26.0

require github.com/varde-lb/varde/policies/wasm v0.0.0

replace github.com/varde-lb/varde/policies/wasm => ../../../../policies/wasm
