// Package atomicfile writes files all or nothing: through a temporary file
// in the same folder, synced and renamed over the target, so that a failed
// or interrupted write never leaves a half-written file.
package atomicfile

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
)

// Write creates or replaces the file at path with what write
// produces, all or nothing. write's output goes to a temporary file in the
// same directory, which is flushed, synced to disk and renamed over path
// only if write returns nil. On any error, or a panic in write, the
// temporary file is removed and an existing file at path is left untouched.
// The new file has mode 0644.
func Write(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	committed := false
	defer func() {
		// Runs on errors and on panics alike.
		if !committed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	committed = true
	// Make the rename itself durable; not every system can sync a
	// directory, so failure here is not reported.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
