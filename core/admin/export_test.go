package admin

// NewAddrForTest exposes newAddr to the package's external tests.
var NewAddrForTest = newAddr
