//go:build !cgo

package ort

import (
	"errors"
	"time"
)

// ErrNoLibrary reports that FindLibrary found no ONNX Runtime library.
var ErrNoLibrary = errors.New("ort: this binary was built without cgo, which ONNX Runtime needs (build with CGO_ENABLED=1)")

// EnvLibrary is the environment variable that names the shared library.
const EnvLibrary = "SGCNN_ORT_LIB"

// FindLibrary fails: without cgo there is no ONNX Runtime.
func FindLibrary() (string, error) { return "", ErrNoLibrary }

// Open fails: without cgo there is no ONNX Runtime.
func Open(path string) error { return ErrNoLibrary }

// Session is unavailable without cgo.
type Session struct{}

// NewSession fails: without cgo there is no ONNX Runtime.
func NewSession(model []byte, in, out string, threads int) (*Session, error) {
	return nil, ErrNoLibrary
}

// Run fails: without cgo there is no ONNX Runtime.
func (s *Session) Run(x []float32, shape []int64) ([]float32, []int64, error) {
	return nil, nil, ErrNoLibrary
}

// Close does nothing.
func (s *Session) Close() error { return nil }

// Time fails: without cgo there is no ONNX Runtime.
func (s *Session) Time(shape []int64, warm, reps int) (time.Duration, error) {
	return 0, ErrNoLibrary
}

// Timer is unavailable without cgo.
type Timer struct{ Threads, Warm, Reps int }

// Time fails: without cgo there is no ONNX Runtime.
func (t Timer) Time(model []byte, shape []int64) (time.Duration, error) { return 0, ErrNoLibrary }
