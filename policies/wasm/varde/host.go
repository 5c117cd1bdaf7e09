//go:build wasip1

package varde

import "unsafe"

// The host functions of module "varde" (docs/wasm-abi.md). Strings go in
// as (pointer, length) and come back through (buffer, capacity) -> length:
// the host writes only when the value fits, so a negative or larger length
// tells the caller to retry with a bigger buffer (or that there is none).

//go:wasmimport varde req_method
func reqMethod(buf unsafe.Pointer, cap uint32) int32

//go:wasmimport varde req_path
func reqPath(buf unsafe.Pointer, cap uint32) int32

//go:wasmimport varde req_query
func reqQuery(buf unsafe.Pointer, cap uint32) int32

//go:wasmimport varde req_host
func reqHost(buf unsafe.Pointer, cap uint32) int32

//go:wasmimport varde req_src
func reqSrc(buf unsafe.Pointer, cap uint32) int32

//go:wasmimport varde req_ssl
func reqSSL() int32

//go:wasmimport varde req_header
func reqHeader(name unsafe.Pointer, nlen uint32, buf unsafe.Pointer, cap uint32) int32

//go:wasmimport varde req_cookie
func reqCookie(name unsafe.Pointer, nlen uint32, buf unsafe.Pointer, cap uint32) int32

//go:wasmimport varde req_fetch
func reqFetch(expr unsafe.Pointer, elen uint32, buf unsafe.Pointer, cap uint32) int32

//go:wasmimport varde servers
func serverList(buf unsafe.Pointer, cap uint32) int32

//go:wasmimport varde hash
func hostHash(p unsafe.Pointer, n uint32) uint64

//go:wasmimport varde server_count
func serverCount() int32

//go:wasmimport varde server_name
func serverName(i int32, buf unsafe.Pointer, cap uint32) int32

//go:wasmimport varde server_weight
func serverWeight(i int32) int32

//go:wasmimport varde server_up
func serverUp(i int32) int32

//go:wasmimport varde server_admin
func serverAdmin(i int32) int32

//go:wasmimport varde server_backup
func serverBackup(i int32) int32

//go:wasmimport varde server_active
func serverActive(i int32) int64

//go:wasmimport varde server_queue
func serverQueue(i int32) int64

//go:wasmimport varde server_maxconn
func serverMaxConn(i int32) int64

//go:wasmimport varde check_ok
func checkOK() int32

//go:wasmimport varde check_code
func checkCode() int32

//go:wasmimport varde check_duration_us
func checkDurationUS() int64

//go:wasmimport varde check_status
func checkStatus(buf unsafe.Pointer, cap uint32) int32

//go:wasmimport varde check_info
func checkInfo(buf unsafe.Pointer, cap uint32) int32

//go:wasmimport varde shared_get
func sharedGet(key unsafe.Pointer, klen uint32, buf unsafe.Pointer, cap uint32) int32

//go:wasmimport varde shared_set
func sharedSet(key unsafe.Pointer, klen uint32, val unsafe.Pointer, vlen uint32, ttlMS int64) int32

//go:wasmimport varde shared_incr
func sharedIncr(key unsafe.Pointer, klen uint32, delta float64, ttlMS int64) float64

//go:wasmimport varde shared_del
func sharedDel(key unsafe.Pointer, klen uint32)

//go:wasmimport varde log
func hostLog(level int32, msg unsafe.Pointer, mlen uint32)
