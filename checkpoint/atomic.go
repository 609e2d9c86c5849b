package checkpoint

import (
	"io"

	"github.com/sgcnn/sgcnn/internal/atomicfile"
)

// WriteFileAtomic creates or replaces the file at path with what write
// produces, all or nothing (see package internal/atomicfile): on any error,
// or a panic in write, an existing file at path is left untouched and no
// temporary file remains. The new file has mode 0644.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	return atomicfile.Write(path, write)
}
