//go:build wasip1

// empty answers "s1" without calling the host: the floor of a Go-built
// guest's call.
package main

import "unsafe"

func main() {}

var name = []byte("s1")

//go:wasmexport choose_server
func chooseServer() uint64 {
	return uint64(uintptr(unsafe.Pointer(&name[0])))<<32 | uint64(len(name))
}
