package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// runLock is a lock file held while a run writes its output. The file
// holds the writer's PID, so that a second writer is refused naming the
// first; the lock itself is an flock(2) on the file, which the kernel drops
// when its process dies, so a lock left by a killed run is taken over.
type runLock struct {
	path string
	f    *os.File
}

// lockPath names the lock of an output file (.NAME.lock beside it) or of
// a run folder (its file "lock").
func lockPath(out string, folder bool) string {
	if folder {
		return filepath.Join(out, "lock")
	}
	dir, base := filepath.Split(out)
	return filepath.Join(dir, "."+base+".lock")
}

// acquireLock takes the lock at path for this process. A lock held by a
// live process is an error naming its PID; a stale one (its process dead)
// is taken over with a note on log. Once held, the temporary files that
// killed writers left beside it (.NAME.tmpNNNN, see package
// internal/atomicfile) are removed, for the names in bases (all of them
// with none).
func acquireLock(path string, log io.Writer, bases ...string) (*runLock, error) {
	for try := 0; try < 5; try++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("taking the lock %s: %w", path, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			b, _ := io.ReadAll(f)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				return nil, fmt.Errorf("another sgcnn run (PID %d) is writing here: it holds %s; wait for it to end, or stop it", pid, path)
			}
			return nil, fmt.Errorf("taking the lock %s: %w", path, err)
		}
		// The file may have been removed (released) between open and
		// flock: then the lock is on a dead inode; start again.
		fi1, err1 := f.Stat()
		fi2, err2 := os.Stat(path)
		if err1 != nil || err2 != nil || !os.SameFile(fi1, fi2) {
			f.Close()
			continue
		}
		old, _ := io.ReadAll(f)
		if pid, _ := strconv.Atoi(strings.TrimSpace(string(old))); pid > 0 && pid != os.Getpid() {
			fmt.Fprintf(log, "taking over the stale lock %s of PID %d, which is no longer running\n", path, pid)
		}
		if err := writePID(f); err != nil {
			os.Remove(path)
			f.Close()
			return nil, fmt.Errorf("writing the lock %s: %w", path, err)
		}
		removeStaleTemps(filepath.Dir(path), log, bases...)
		return &runLock{path: path, f: f}, nil
	}
	return nil, fmt.Errorf("could not take the lock %s: other runs keep taking it", path)
}

// writePID replaces the file's content with this process's PID.
func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// release removes the lock; it is safe to call on nil and more than once.
func (l *runLock) release() {
	if l == nil || l.f == nil {
		return
	}
	os.Remove(l.path)
	l.f.Close()
	l.f = nil
}

// removeStaleTemps removes dir/.BASE.tmp* files, the temporary files of
// atomic writes whose writer was killed, for each base; with no base, every
// .*.tmp* file in dir. Only a lock holder may call it: then no other writer
// is using them.
func removeStaleTemps(dir string, log io.Writer, bases ...string) {
	patterns := []string{".*.tmp*"}
	if len(bases) > 0 {
		patterns = patterns[:0]
		for _, b := range bases {
			if b != snapshotGlob {
				b = escapeGlob(b)
			}
			patterns = append(patterns, "."+b+".tmp*")
		}
	}
	n := 0
	for _, p := range patterns {
		matches, _ := filepath.Glob(filepath.Join(dir, p))
		for _, m := range matches {
			if fi, err := os.Lstat(m); err == nil && fi.Mode().IsRegular() && os.Remove(m) == nil {
				n++
			}
		}
	}
	if n > 0 {
		fmt.Fprintf(log, "removed %d temporary file(s) left in %s by an interrupted write\n", n, dir)
	}
}

// snapshotGlob, given to removeStaleTemps, matches the epoch snapshots of
// a training run (see snapshotPath).
const snapshotGlob = "epoch-[0-9]*.safetensors"

// escapeGlob quotes the glob metacharacters of a file name.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
