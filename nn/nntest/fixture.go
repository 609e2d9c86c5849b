// Package nntest holds test helpers for package nn: a reader for the
// PyTorch reference fixtures in nn/testdata (written by
// scripts/gen_nn_fixtures.py), a tolerance-based tensor comparison, and
// CheckGradients, a finite-difference gradient check for layers and losses.
package nntest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/sgcnn/sgcnn/tensor"
)

// fixtureMagic opens every fixture file.
const fixtureMagic = "SGNNFX01"

// Fixture is one case of reference tensors, keyed by name, in file order.
type Fixture struct {
	Path    string
	Names   []string
	Tensors map[string]*tensor.Tensor
}

// ReadFixture reads a fixture file. The format (little-endian) is the magic
// "SGNNFX01", a uint32 tensor count, then per tensor a uint16 name length,
// the name, a uint8 rank, the uint32 dimensions and the float32 values.
func ReadFixture(path string) (*Fixture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFixture(path, b)
}

// ParseFixture parses the bytes of a fixture file; path is used in errors.
func ParseFixture(path string, b []byte) (*Fixture, error) {
	r := bytes.NewReader(b)
	fail := func(what string, err error) (*Fixture, error) {
		return nil, fmt.Errorf("fixture %s: %s at byte %d: %v", path, what, len(b)-r.Len(), err)
	}
	magic := make([]byte, len(fixtureMagic))
	if _, err := r.Read(magic); err != nil || string(magic) != fixtureMagic {
		return nil, fmt.Errorf("fixture %s: bad magic %q, want %q", path, magic, fixtureMagic)
	}
	var count uint32
	if err := binary.Read(r, binary.LittleEndian, &count); err != nil {
		return fail("count", err)
	}
	f := &Fixture{Path: path, Tensors: make(map[string]*tensor.Tensor)}
	for range count {
		var nl uint16
		if err := binary.Read(r, binary.LittleEndian, &nl); err != nil {
			return fail("name length", err)
		}
		name := make([]byte, nl)
		if _, err := r.Read(name); err != nil && nl > 0 {
			return fail("name", err)
		}
		var rank uint8
		if err := binary.Read(r, binary.LittleEndian, &rank); err != nil {
			return fail("rank", err)
		}
		dims := make([]uint32, rank)
		if err := binary.Read(r, binary.LittleEndian, dims); err != nil {
			return fail("dims", err)
		}
		shape := make([]int, rank)
		n := 1
		for i, d := range dims {
			shape[i] = int(d)
			n *= int(d)
		}
		if n*4 > r.Len() {
			return fail("data of "+string(name), fmt.Errorf("%d values, %d bytes left", n, r.Len()))
		}
		t := tensor.New(shape...)
		if err := binary.Read(r, binary.LittleEndian, t.Data); err != nil {
			return fail("data", err)
		}
		if _, dup := f.Tensors[string(name)]; dup {
			return nil, fmt.Errorf("fixture %s: tensor %q twice", path, name)
		}
		f.Names = append(f.Names, string(name))
		f.Tensors[string(name)] = t
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("fixture %s: %d trailing bytes", path, r.Len())
	}
	return f, nil
}

// LoadFixture reads a fixture or fails the test.
func LoadFixture(t testing.TB, path string) *Fixture {
	t.Helper()
	f, err := ReadFixture(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Has reports whether the fixture holds a tensor called name.
func (f *Fixture) Has(name string) bool {
	_, ok := f.Tensors[name]
	return ok
}

// Get returns a copy of the named tensor (so that in-place layers cannot
// alter the fixture), failing the test when it is missing.
func (f *Fixture) Get(t testing.TB, name string) *tensor.Tensor {
	t.Helper()
	x, ok := f.Tensors[name]
	if !ok {
		t.Fatalf("fixture %s has no tensor %q (has %v)", f.Path, name, f.Names)
	}
	return x.Clone()
}

// Scalar returns the single value of the named tensor.
func (f *Fixture) Scalar(t testing.TB, name string) float32 {
	t.Helper()
	x := f.Get(t, name)
	if x.Len() != 1 {
		t.Fatalf("fixture %s: %q has shape %v, want a scalar", f.Path, name, x.Shape)
	}
	return x.Data[0]
}

// Ints returns the named tensor's values as ints (labels are stored as
// float32).
func (f *Fixture) Ints(t testing.TB, name string) []int {
	t.Helper()
	x := f.Get(t, name)
	out := make([]int, x.Len())
	for i, v := range x.Data {
		out[i] = int(v)
		if float32(out[i]) != v {
			t.Fatalf("fixture %s: %q[%d] = %g is not an integer", f.Path, name, i, v)
		}
	}
	return out
}

// SetParam copies the named tensor into dst, failing the test when the
// shapes differ.
func (f *Fixture) SetParam(t testing.TB, name string, dst *tensor.Tensor) {
	t.Helper()
	src := f.Get(t, name)
	if !tensor.SameShape(src.Shape, dst.Shape) {
		t.Fatalf("fixture %s: %q has shape %v, the layer wants %v", f.Path, name, src.Shape, dst.Shape)
	}
	copy(dst.Data, src.Data)
}

// Tol is a combined absolute/relative tolerance: got passes against want
// when |got - want| <= Atol + Rtol*|want|, elementwise.
type Tol struct {
	Rtol, Atol float64
}

// ok reports whether got is within the tolerance of want (NaN never is).
func (tol Tol) ok(got, want float64) bool {
	return math.Abs(got-want) <= tol.Atol+tol.Rtol*math.Abs(want)
}

// Close compares got with want elementwise and reports the number of
// elements outside tol, the worst element and its error.
func Close(got, want []float32, tol Tol) (bad, worst int, maxErr float64) {
	worst = -1
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		e := math.Abs(g - w)
		if math.IsNaN(e) {
			e = math.Inf(1)
		}
		if !tol.ok(g, w) {
			bad++
		}
		if worst < 0 || e > maxErr {
			worst, maxErr = i, e
		}
	}
	return bad, worst, maxErr
}

// Compare fails the test when got and want differ in shape or when any
// element is outside tol; the message names what and the worst element.
func Compare(t testing.TB, what string, got, want *tensor.Tensor, tol Tol) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil, want shape %v", what, want.Shape)
		return
	}
	if !tensor.SameShape(got.Shape, want.Shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape, want.Shape)
		return
	}
	if bad, i, e := Close(got.Data, want.Data, tol); bad > 0 {
		t.Errorf("%s: %d of %d values outside |d| <= %g + %g|want|; worst [%d] got %g want %g (|d| = %.3g)",
			what, bad, want.Len(), tol.Atol, tol.Rtol, i, got.Data[i], want.Data[i], e)
	}
}
