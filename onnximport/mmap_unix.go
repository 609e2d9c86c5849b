//go:build unix

package onnximport

import (
	"os"
	"syscall"
)

// mapFile maps a file read-only; release unmaps it. Empty files and systems
// that refuse the mapping fall back to reading the file.
func mapFile(path string) ([]byte, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := st.Size()
	if size <= 0 || size != int64(int(size)) || !st.Mode().IsRegular() {
		return readWhole(path)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return readWhole(path)
	}
	return data, func() { _ = syscall.Munmap(data) }, nil
}
