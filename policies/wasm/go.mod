module github.com/varde-lb/varde/policies/wasm

go 1.26.0
