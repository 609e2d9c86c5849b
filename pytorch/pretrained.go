package pytorch

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// PretrainedExt ends the name of a pretrained checkpoint.
const PretrainedExt = ".th"

// FindPretrained returns the path of the one pretrained checkpoint for
// architecture arch in folder dir: the regular file named
// <arch>-<anything>.th, as pretrained CIFAR ResNets are shipped
// (resnet20-12fca82f.th). The name must continue with "-" right after arch,
// so resnet2 does not find resnet20-12fca82f.th.
//
// When dir holds no such file, or does not exist, the error wraps
// fs.ErrNotExist, so that a caller with a fallback (random weights) can
// tell that case apart with errors.Is. Two or more matches are an error
// that names them: which one is meant is not guessed. arch must be a plain
// name, with no path separator.
func FindPretrained(dir, arch string) (string, error) {
	if arch == "" || strings.ContainsAny(arch, `/\`) || arch == "." || arch == ".." {
		return "", fmt.Errorf("pytorch: FindPretrained: architecture %q is not a plain name", arch)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("pretrained %s: %w", arch, err)
	}
	prefix := arch + "-"
	var found []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, PretrainedExt) {
			continue
		}
		if !e.Type().IsRegular() && !isRegularTarget(filepath.Join(dir, name)) {
			continue
		}
		found = append(found, filepath.Join(dir, name))
	}
	pattern := filepath.Join(dir, prefix+"*"+PretrainedExt)
	switch len(found) {
	case 0:
		return "", fmt.Errorf("pretrained %s: no file %s: %w", arch, pattern, fs.ErrNotExist)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("pretrained %s: %d files match %s (%s): keep one, or name the file", arch, len(found), pattern, strings.Join(found, ", "))
}

// isRegularTarget reports whether path is, after following symbolic links,
// a regular file.
func isRegularTarget(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
