//go:build cgo

package ort

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestFindLibraryFromEnv(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	t.Setenv(EnvLibrary, missing)
	if _, err := FindLibrary(); !errors.Is(err, ErrNoLibrary) {
		t.Errorf("missing $%s: error %v, want ErrNoLibrary", EnvLibrary, err)
	}
	self, err := filepath.Abs("ort.go")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvLibrary, self)
	if p, err := FindLibrary(); err != nil || p != self {
		t.Errorf("FindLibrary() = %q, %v; want %q", p, err, self)
	}
}

func TestNewSessionRejectsGarbage(t *testing.T) {
	lib, err := FindLibrary()
	if err != nil {
		t.Skip(err)
	}
	if err := Open(lib); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSession([]byte("not a model"), "input", "output", 1); err == nil {
		t.Error("no error for a garbage model")
	}
}
