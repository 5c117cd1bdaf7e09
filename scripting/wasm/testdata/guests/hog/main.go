//go:build wasip1

// hog misbehaves the way Go code does, chosen by the first byte of the
// request path read through varde.req_path: 'a' allocates without end
// (the Go runtime dies "out of memory"), 'p' panics, 's' spins, anything
// else answers "s1".
package main

import "unsafe"

//go:wasmimport varde req_path
func reqPath(buf unsafe.Pointer, cap uint32) int32

func main() {}

var (
	buf  = make([]byte, 64)
	name = []byte("s1")
	keep [][]byte
	n    int
)

//go:wasmexport choose_server
func chooseServer() uint64 {
	l := reqPath(unsafe.Pointer(&buf[0]), uint32(len(buf)))
	if l >= 2 {
		switch buf[1] {
		case 'a':
			for {
				keep = append(keep, make([]byte, 1<<20))
			}
		case 'p':
			panic("policy bug")
		case 's':
			for {
				n++
			}
		}
	}
	return uint64(uintptr(unsafe.Pointer(&name[0])))<<32 | uint64(len(name))
}
