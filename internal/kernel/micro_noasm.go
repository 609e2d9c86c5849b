//go:build noasm || !amd64

package kernel

// asmWanted reports whether tests must find an assembly implementation:
// never in a pure-Go build.
const asmWanted = false
