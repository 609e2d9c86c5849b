package pytorch

import (
	"encoding/binary"
	"fmt"
	"math"
)

// dtype is the element type of a storage.
type dtype int

const (
	dtFloat32 dtype = iota
	dtFloat64
	dtFloat16
	dtBFloat16
	dtInt64
	dtInt32
	dtInt16
	dtInt8
	dtUint8
	dtBool
)

// size returns the byte size of one element.
func (d dtype) size() int {
	switch d {
	case dtFloat64, dtInt64:
		return 8
	case dtFloat32, dtInt32:
		return 4
	case dtFloat16, dtBFloat16, dtInt16:
		return 2
	}
	return 1
}

// isFloat reports whether values of d become float32 tensors.
func (d dtype) isFloat() bool {
	return d == dtFloat32 || d == dtFloat64 || d == dtFloat16 || d == dtBFloat16
}

// storageTypes maps the torch storage class names that may appear in a
// persistent id to their element type.
var storageTypes = map[string]dtype{
	"FloatStorage":    dtFloat32,
	"DoubleStorage":   dtFloat64,
	"HalfStorage":     dtFloat16,
	"BFloat16Storage": dtBFloat16,
	"LongStorage":     dtInt64,
	"IntStorage":      dtInt32,
	"ShortStorage":    dtInt16,
	"CharStorage":     dtInt8,
	"ByteStorage":     dtUint8,
	"BoolStorage":     dtBool,
}

// storageClass is what the resolver returns for torch.<X>Storage. It is only
// ever used as the second field of a persistent id.
type storageClass struct {
	name string
	dt   dtype
}

// rawStorage is one storage record: raw little-endian bytes, filled in when
// the record is read (legacy files read them after the object pickle).
type rawStorage struct {
	key   string
	dt    dtype
	numel int    // element count announced in the persistent id
	data  []byte // numel*dt.size() bytes once loaded; nil before
}

// storageRef is what persistent_load returns: a window of a raw storage
// (legacy files may pickle storage views; otherwise off is 0 and n is the
// whole storage).
type storageRef struct {
	root *rawStorage
	off  int // first element, in elements of root
	n    int // number of elements
}

// tensorRef is what torch._utils._rebuild_tensor_v2 returns: an unmaterialised
// strided view of a storage.
type tensorRef struct {
	st     *storageRef
	offset int
	shape  []int
	stride []int
}

// maxOverlapElems caps the total number of elements that self-overlapping
// views (stride 0, as made by Tensor.expand) may expand to in one file. Any
// view without self-overlap has at most as many elements as its storage, so
// this only limits what a corrupt file can make us allocate.
const maxOverlapElems = 1 << 24

// numelChecked returns the product of shape, or an error on a negative
// dimension or overflow past limit.
func numelChecked(shape []int, limit int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %v", d, shape)
		}
		if d != 0 && n > limit/d {
			return 0, fmt.Errorf("shape %v has too many elements", shape)
		}
		n *= d
	}
	return n, nil
}

// check validates t against its storage and returns its element count and
// whether the view may overlap itself.
func (t *tensorRef) check() (numel int, overlap bool, err error) {
	if len(t.shape) != len(t.stride) {
		return 0, false, fmt.Errorf("shape %v and stride %v differ in length", t.shape, t.stride)
	}
	if t.offset < 0 {
		return 0, false, fmt.Errorf("negative storage offset %d", t.offset)
	}
	numel, err = numelChecked(t.shape, math.MaxInt32*8)
	if err != nil || numel == 0 {
		return numel, false, err
	}
	// last is the storage index of the last element; every index lies in
	// [offset, last] because strides are non-negative.
	last := t.offset
	for i, d := range t.shape {
		s := t.stride[i]
		if s < 0 {
			return 0, false, fmt.Errorf("negative stride %v", t.stride)
		}
		if s != 0 && d-1 > (math.MaxInt64-last)/s {
			return 0, false, fmt.Errorf("stride %v overflows", t.stride)
		}
		last += (d - 1) * s
	}
	if last >= t.st.n {
		return 0, false, fmt.Errorf("view (offset %d, shape %v, stride %v) reaches element %d of a %d-element storage",
			t.offset, t.shape, t.stride, last, t.st.n)
	}
	return numel, numel > last-t.offset+1, nil
}

// elems calls f with the storage element index (relative to the storage
// window) of each tensor element, in row-major order of the tensor.
func (t *tensorRef) elems(numel int, f func(i, src int)) {
	if numel == 0 {
		return
	}
	nd := len(t.shape)
	idx := make([]int, nd)
	src := t.offset
	for i := 0; i < numel; i++ {
		f(i, src)
		// Odometer increment over the dimensions, innermost first.
		for k := nd - 1; k >= 0; k-- {
			idx[k]++
			src += t.stride[k]
			if idx[k] < t.shape[k] {
				break
			}
			src -= idx[k] * t.stride[k]
			idx[k] = 0
		}
	}
}

// contiguous reports whether t is a row-major view with no gaps.
func (t *tensorRef) contiguous() bool {
	want := 1
	for k := len(t.shape) - 1; k >= 0; k-- {
		if t.shape[k] != 1 && t.stride[k] != want {
			return false
		}
		want *= t.shape[k]
	}
	return true
}

// floats materialises t as float32 values.
func (t *tensorRef) floats(numel int) []float32 {
	out := make([]float32, numel)
	b := t.st.root.data
	base := t.st.off
	dt := t.st.root.dt
	sz := dt.size()
	if dt == dtFloat32 && t.contiguous() {
		p := (base + t.offset) * 4
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[p+4*i:]))
		}
		return out
	}
	t.elems(numel, func(i, src int) {
		p := (base + src) * sz
		switch dt {
		case dtFloat32:
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[p:]))
		case dtFloat64:
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[p:])))
		case dtFloat16:
			out[i] = halfToFloat(binary.LittleEndian.Uint16(b[p:]))
		case dtBFloat16:
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[p:])) << 16)
		}
	})
	return out
}

// ints materialises t as int64 values.
func (t *tensorRef) ints(numel int) []int64 {
	out := make([]int64, numel)
	b := t.st.root.data
	base := t.st.off
	dt := t.st.root.dt
	sz := dt.size()
	t.elems(numel, func(i, src int) {
		p := (base + src) * sz
		switch dt {
		case dtInt64:
			out[i] = int64(binary.LittleEndian.Uint64(b[p:]))
		case dtInt32:
			out[i] = int64(int32(binary.LittleEndian.Uint32(b[p:])))
		case dtInt16:
			out[i] = int64(int16(binary.LittleEndian.Uint16(b[p:])))
		case dtInt8:
			out[i] = int64(int8(b[p]))
		case dtUint8:
			out[i] = int64(b[p])
		case dtBool:
			if b[p] != 0 {
				out[i] = 1
			}
		}
	})
	return out
}

// halfToFloat converts an IEEE 754 binary16 value to float32 exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN: keep the payload bits.
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // Normal: rebias the exponent from 15 to 127.
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal half: frac × 2^-24, exactly representable as a float32.
	v := float32(frac) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}
