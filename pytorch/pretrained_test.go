package pytorch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// folder makes a temporary folder holding empty files of the given names
// (a name ending in "/" is made a folder).
func folder(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		var err error
		if strings.HasSuffix(n, "/") {
			err = os.Mkdir(filepath.Join(dir, n), 0o755)
		} else {
			err = os.WriteFile(filepath.Join(dir, n), nil, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFindPretrainedOne(t *testing.T) {
	dir := folder(t, "resnet20-12fca82f.th", "resnet56-4bfd9763.th", "resnet20.th", "resnet20-x.pth", "SOURCES.md")
	got, err := FindPretrained(dir, "resnet20")
	if want := filepath.Join(dir, "resnet20-12fca82f.th"); err != nil || got != want {
		t.Errorf("FindPretrained = %q, %v; want %q", got, err, want)
	}
}

func TestFindPretrainedNoMatch(t *testing.T) {
	for _, c := range []struct {
		what, dir, arch string
	}{
		{"empty folder", folder(t), "resnet20"},
		{"missing folder", filepath.Join(t.TempDir(), "none"), "resnet20"},
		// The arch's name must be followed by "-": resnet2 is not resnet20,
		// and resnet20 is not resnet20b.
		{"wrong arch, prefix", folder(t, "resnet20-12fca82f.th"), "resnet2"},
		{"wrong arch, longer", folder(t, "resnet20b-12fca82f.th"), "resnet20"},
		{"wrong arch", folder(t, "resnet56-4bfd9763.th"), "resnet20"},
		{"wrong extension", folder(t, "resnet20-12fca82f.pth", "resnet20-12fca82f.th.bak"), "resnet20"},
		{"a folder, not a file", folder(t, "resnet20-12fca82f.th/"), "resnet20"},
	} {
		got, err := FindPretrained(c.dir, c.arch)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: FindPretrained = %q, %v; want an error wrapping fs.ErrNotExist", c.what, got, err)
			continue
		}
		if !strings.Contains(err.Error(), c.arch) {
			t.Errorf("%s: error %q does not name %s", c.what, err, c.arch)
		}
	}
}

func TestFindPretrainedTwoMatches(t *testing.T) {
	dir := folder(t, "resnet20-12fca82f.th", "resnet20-00000000.th", "resnet56-4bfd9763.th")
	got, err := FindPretrained(dir, "resnet20")
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("FindPretrained = %q, %v; want an ambiguity error", got, err)
	}
	for _, n := range []string{"resnet20-12fca82f.th", "resnet20-00000000.th"} {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not name %s", err, n)
		}
	}
}

func TestFindPretrainedBadArch(t *testing.T) {
	dir := folder(t, "resnet20-12fca82f.th")
	for _, arch := range []string{"", ".", "..", "../resnet20", "a/b", `a\b`} {
		if got, err := FindPretrained(dir, arch); err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("FindPretrained(%q) = %q, %v; want a bad-name error", arch, got, err)
		}
	}
}

func TestFindPretrainedSymlink(t *testing.T) {
	dir := folder(t, "store.bin")
	if err := os.Symlink(filepath.Join(dir, "store.bin"), filepath.Join(dir, "resnet20-12fca82f.th")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if _, err := FindPretrained(dir, "resnet20"); err != nil {
		t.Errorf("a link to a file: %v", err)
	}
}
