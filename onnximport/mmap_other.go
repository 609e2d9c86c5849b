//go:build !unix

package onnximport

// mapFile reads the whole file where memory mapping is not available.
func mapFile(path string) ([]byte, func(), error) { return readWhole(path) }
