// Package packaging holds varde's Debian package: mkdeb builds it with
// dpkg-deb alone, debian/ has its control file and maintainer scripts,
// gencompletion writes its bash completion from the binary's help. The
// package's tests (deb_test.go) build it, install it in a throwaway root
// and check what it installs, how its maintainer scripts treat a changed
// configuration, its systemd unit, man pages and completion.
// docs/packaging.md is the user-facing description.
package packaging
