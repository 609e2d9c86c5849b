package onnximport

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// maxElems bounds one tensor, as graph does for activations.
const maxElems = 1 << 31

// maxFolded bounds a tensor made by constant folding (shape arithmetic is
// tiny; a larger result comes from a hostile file).
const maxFolded = 1 << 20

// kind is a constant's element class.
type kind int

const (
	kFloat kind = iota // float32 values in f
	kInt               // integers in i
	kBool              // 0 or 1 in i
)

// cval is a constant tensor: an initializer, a Constant node's value, or a
// folded result. Float constants hold float32 (the weights' type); the
// integer kinds hold int64.
type cval struct {
	dims []int
	kind kind
	f    []float32
	i    []int64
}

// numel is the number of elements.
func (c *cval) numel() int {
	if c.kind == kFloat {
		return len(c.f)
	}
	return len(c.i)
}

// at returns element k as a float64.
func (c *cval) at(k int) float64 {
	if c.kind == kFloat {
		return float64(c.f[k])
	}
	return float64(c.i[k])
}

// ints returns the values as ints (rounding floats toward zero).
func (c *cval) ints() []int {
	out := make([]int, c.numel())
	for k := range out {
		if c.kind == kFloat {
			out[k] = clampInt(float64(c.f[k]))
		} else {
			out[k] = clampInt64(c.i[k])
		}
	}
	return out
}

// floats returns the values as float32 (sharing c.f for float constants).
func (c *cval) floats() []float32 {
	if c.kind == kFloat {
		return c.f
	}
	out := make([]float32, len(c.i))
	for k, v := range c.i {
		out[k] = float32(v)
	}
	return out
}

// clampInt64 keeps int64 bounds such as INT64_MAX (Slice's "to the end")
// within int arithmetic that cannot overflow.
func clampInt64(v int64) int {
	const lim = 1 << 40
	return int(min(max(v, -lim), lim))
}

func clampInt(v float64) int {
	if math.IsNaN(v) {
		return 0
	}
	return clampInt64(int64(max(min(v, 1<<40), -(1 << 40))))
}

// elemSize is the raw_data width of each data type sgcnn reads, or 0.
func elemSize(dt int32) int {
	switch onnxpb.TensorProto_DataType(dt) {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_INT32, onnxpb.TensorProto_UINT32:
		return 4
	case onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64:
		return 8
	case onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_INT16, onnxpb.TensorProto_UINT16:
		return 2
	case onnxpb.TensorProto_INT8, onnxpb.TensorProto_UINT8, onnxpb.TensorProto_BOOL:
		return 1
	}
	return 0
}

// tensorDims checks a TensorProto's dims and returns them with the element
// count, refusing negative dims and products beyond maxElems (checked
// before any multiplication can overflow).
func tensorDims(t *onnxpb.TensorProto) ([]int, int, error) {
	dims := make([]int, len(t.Dims))
	n := 1
	for i, d := range t.Dims {
		if d < 0 || d > maxElems {
			return nil, 0, fmt.Errorf("dims %v: dimension %d out of range", t.Dims, d)
		}
		dims[i] = int(d)
		if d != 0 && n > maxElems/int(d) {
			return nil, 0, fmt.Errorf("dims %v hold more than %d elements", t.Dims, maxElems)
		}
		n *= int(d)
	}
	return dims, n, nil
}

// checkTensor checks, before anything is allocated, that a TensorProto's
// dims agree with the data it holds, so that a corrupt header cannot size
// an allocation. External data is checked when it is read.
func checkTensor(t *onnxpb.TensorProto) error {
	_, n, err := tensorDims(t)
	if err != nil {
		return err
	}
	dt := onnxpb.TensorProto_DataType(t.DataType)
	es := elemSize(t.DataType)
	switch {
	case es == 0:
		return fmt.Errorf("data type %v is not supported (want float, double, float16 or an integer type)", dt)
	case t.Segment != nil:
		return fmt.Errorf("segmented tensors are not supported")
	case t.DataLocation == onnxpb.TensorProto_EXTERNAL:
		return nil
	case t.RawData != nil:
		if len(t.RawData)/es < n || len(t.RawData) != n*es {
			return fmt.Errorf("dims %v (%v) need %d bytes, raw_data holds %d", t.Dims, dt, uint64(n)*uint64(es), len(t.RawData))
		}
		return nil
	}
	if have := typedLen(t); have != n {
		return fmt.Errorf("dims %v hold %d values, the %v data field holds %d", t.Dims, n, dt, have)
	}
	return nil
}

// typedLen is the number of values in the typed field the data type uses.
func typedLen(t *onnxpb.TensorProto) int {
	switch onnxpb.TensorProto_DataType(t.DataType) {
	case onnxpb.TensorProto_FLOAT:
		return len(t.FloatData)
	case onnxpb.TensorProto_DOUBLE:
		return len(t.DoubleData)
	case onnxpb.TensorProto_INT64:
		return len(t.Int64Data)
	case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		return len(t.Uint64Data)
	}
	return len(t.Int32Data)
}

// tensorValue converts a checked TensorProto to a constant, reading
// external data from dir. Float data is converted to float32 once.
func tensorValue(t *onnxpb.TensorProto, dir string) (*cval, error) {
	if err := checkTensor(t); err != nil {
		return nil, err
	}
	dims, n, _ := tensorDims(t)
	raw := t.RawData
	if t.DataLocation == onnxpb.TensorProto_EXTERNAL {
		var err error
		if raw, err = readExternal(t, n, dir); err != nil {
			return nil, err
		}
	}
	c := &cval{dims: dims}
	dt := onnxpb.TensorProto_DataType(t.DataType)
	switch dt {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_FLOAT16:
		c.kind = kFloat
		c.f = make([]float32, n)
	case onnxpb.TensorProto_BOOL:
		c.kind = kBool
		c.i = make([]int64, n)
	default:
		c.kind = kInt
		c.i = make([]int64, n)
	}
	if raw != nil {
		fromRaw(c, dt, raw)
		return c, nil
	}
	for k := range n {
		switch dt {
		case onnxpb.TensorProto_FLOAT:
			c.f[k] = t.FloatData[k]
		case onnxpb.TensorProto_DOUBLE:
			c.f[k] = float32(t.DoubleData[k])
		case onnxpb.TensorProto_FLOAT16:
			c.f[k] = half(uint16(t.Int32Data[k]))
		case onnxpb.TensorProto_INT64:
			c.i[k] = t.Int64Data[k]
		case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
			c.i[k] = int64(t.Uint64Data[k])
		default:
			c.i[k] = int64(t.Int32Data[k])
		}
	}
	return c, nil
}

// fromRaw decodes little-endian raw bytes (length already checked).
func fromRaw(c *cval, dt onnxpb.TensorProto_DataType, raw []byte) {
	le := binary.LittleEndian
	switch dt {
	case onnxpb.TensorProto_FLOAT:
		for k := range c.f {
			c.f[k] = math.Float32frombits(le.Uint32(raw[4*k:]))
		}
	case onnxpb.TensorProto_DOUBLE:
		for k := range c.f {
			c.f[k] = float32(math.Float64frombits(le.Uint64(raw[8*k:])))
		}
	case onnxpb.TensorProto_FLOAT16:
		for k := range c.f {
			c.f[k] = half(le.Uint16(raw[2*k:]))
		}
	case onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64:
		for k := range c.i {
			c.i[k] = int64(le.Uint64(raw[8*k:]))
		}
	case onnxpb.TensorProto_INT32:
		for k := range c.i {
			c.i[k] = int64(int32(le.Uint32(raw[4*k:])))
		}
	case onnxpb.TensorProto_UINT32:
		for k := range c.i {
			c.i[k] = int64(le.Uint32(raw[4*k:]))
		}
	case onnxpb.TensorProto_INT16:
		for k := range c.i {
			c.i[k] = int64(int16(le.Uint16(raw[2*k:])))
		}
	case onnxpb.TensorProto_UINT16:
		for k := range c.i {
			c.i[k] = int64(le.Uint16(raw[2*k:]))
		}
	case onnxpb.TensorProto_INT8:
		for k := range c.i {
			c.i[k] = int64(int8(raw[k]))
		}
	default: // UINT8, BOOL
		for k := range c.i {
			c.i[k] = int64(raw[k])
		}
	}
}

// half converts an IEEE 754 binary16 value to float32.
func half(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch exp {
	case 0:
		v := float32(frac) / (1 << 24) // subnormal: frac * 2^-24
		if sign != 0 {
			v = -v
		}
		return v
	case 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// readExternal reads a tensor's bytes from the file external_data names,
// which must lie inside dir (os.Root refuses paths and links that leave it).
func readExternal(t *onnxpb.TensorProto, n int, dir string) ([]byte, error) {
	var loc string
	var off, length int64 = 0, -1
	for _, kv := range t.ExternalData {
		var err error
		switch kv.Key {
		case "location":
			loc = kv.Value
		case "offset":
			off, err = strconv.ParseInt(kv.Value, 10, 64)
		case "length":
			length, err = strconv.ParseInt(kv.Value, 10, 64)
		}
		if err != nil || off < 0 || (kv.Key == "length" && length < 0) {
			return nil, fmt.Errorf("external_data %s=%q is not a non-negative integer", kv.Key, kv.Value)
		}
	}
	if loc == "" {
		return nil, fmt.Errorf("external data without a location")
	}
	if dir == "" {
		return nil, fmt.Errorf("data is in the external file %q: read the model with ReadFile, or set Options.Dir to its folder", loc)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("external data %q: %w", loc, err)
	}
	defer root.Close()
	f, err := root.Open(loc)
	if err != nil {
		return nil, fmt.Errorf("external data %q (must be a file inside %s): %w", loc, dir, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("external data %q: %w", loc, err)
	}
	want := int64(n) * int64(elemSize(t.DataType))
	if length < 0 {
		length = want
	}
	if length != want || off > st.Size() || length > st.Size()-off {
		return nil, fmt.Errorf("external data %q: dims %v need %d bytes at offset %d, the entry says %d and the file holds %d", loc, t.Dims, want, off, length, st.Size())
	}
	buf := make([]byte, length)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, fmt.Errorf("external data %q: %w", loc, err)
	}
	return buf, nil
}
