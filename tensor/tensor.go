// Package tensor holds sgcnn's one data type: a dense float32 array with a
// shape, stored in row-major order (NCHW for images, [out][in] for weights).
//
// A Tensor is a plain value holder. It does no arithmetic of its own; layers
// (package nn) and kernels (package internal/kernel) work on its Data slice
// directly, so that every loop that matters is explicit where it runs.
package tensor

import (
	"fmt"
	"strings"
)

// Tensor is a dense float32 array. Data has exactly Numel(Shape...) elements.
type Tensor struct {
	Shape []int
	Data  []float32
}

// New returns a zero tensor of the given shape.
func New(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, Numel(shape...))}
}

// From wraps data (not copied) as a tensor of the given shape. It returns an
// error when the lengths disagree.
func From(data []float32, shape ...int) (*Tensor, error) {
	if n := Numel(shape...); n != len(data) {
		return nil, fmt.Errorf("tensor: %d values do not fill shape %s (%d)", len(data), ShapeString(shape), n)
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

// Numel is the number of elements of a tensor with the given shape.
func Numel(shape ...int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len is the number of elements in t.
func (t *Tensor) Len() int { return len(t.Data) }

// Dim returns the size of dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	return t.Shape[i]
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Zero sets every element of t to zero.
func (t *Tensor) Zero() { clear(t.Data) }

// Reshape returns a tensor sharing t's data with a new shape of the same size.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) { return From(t.Data, shape...) }

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ShapeString formats a shape as [2 3 32 32].
func ShapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// String describes t's shape, not its values.
func (t *Tensor) String() string { return "tensor" + ShapeString(t.Shape) }
