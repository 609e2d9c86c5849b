package onnximport

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// constantNode folds a Constant node.
func (im *importer) constantNode(n *onnxpb.NodeProto) error {
	if len(n.Attribute) != 1 {
		return fmt.Errorf("%d attributes, want one value", len(n.Attribute))
	}
	a := n.Attribute[0]
	var c *cval
	switch a.Name {
	case "value":
		if a.T == nil {
			return fmt.Errorf("value holds no tensor")
		}
		var err error
		if c, err = tensorValue(a.T, im.opts.Dir); err != nil {
			return err
		}
	case "value_float":
		c = &cval{kind: kFloat, f: []float32{a.F}}
	case "value_floats":
		c = &cval{dims: []int{len(a.Floats)}, kind: kFloat, f: slices.Clone(a.Floats)}
	case "value_int":
		c = &cval{kind: kInt, i: []int64{a.I}}
	case "value_ints":
		c = &cval{dims: []int{len(a.Ints)}, kind: kInt, i: slices.Clone(a.Ints)}
	default:
		return fmt.Errorf("attribute %s is not supported", a.Name)
	}
	im.consts[n.Output[0]] = c
	return nil
}

// shapeNode folds Shape: an activation's shape is the batch value followed
// by its per-image shape.
func (im *importer) shapeNode(n *onnxpb.NodeProto) error {
	in := input(n, 0)
	var dims []int64
	if im.acts[in] {
		s, err := im.shape(in)
		if err != nil {
			return err
		}
		dims = append(dims, im.batch)
		for _, d := range s {
			dims = append(dims, int64(d))
		}
	} else {
		c, err := im.constant(in)
		if err != nil {
			return err
		}
		for _, d := range c.dims {
			dims = append(dims, int64(d))
		}
	}
	r := len(dims)
	lo, hi := attrInt(n, "start", 0), attrInt(n, "end", r)
	lo, hi = clampAxis(lo, r), clampAxis(hi, r)
	if hi < lo {
		hi = lo
	}
	im.consts[n.Output[0]] = &cval{dims: []int{hi - lo}, kind: kInt, i: dims[lo:hi]}
	return nil
}

// clampAxis normalises a possibly negative index into [0, r].
func clampAxis(v, r int) int {
	if v < 0 {
		v += r
	}
	return min(max(v, 0), r)
}

// fold evaluates a node whose inputs are all constants.
func (im *importer) fold(n *onnxpb.NodeProto) error {
	ins := make([]*cval, len(n.Input))
	for i, name := range n.Input {
		if name == "" {
			continue
		}
		c, err := im.constant(name)
		if err != nil {
			return err
		}
		ins[i] = c
	}
	out, err := im.eval(n, ins)
	if err != nil {
		return fmt.Errorf("folding constants: %w", err)
	}
	if out.numel() > maxFolded {
		return fmt.Errorf("folding constants: a result of %d elements", out.numel())
	}
	im.consts[n.Output[0]] = out
	return nil
}

// need checks that the inputs a fold reads are present.
func need(ins []*cval, k int) error {
	if len(ins) < k {
		return fmt.Errorf("%d inputs, want %d", len(ins), k)
	}
	for i := range k {
		if ins[i] == nil {
			return fmt.Errorf("input %d missing", i)
		}
	}
	return nil
}

// eval computes one folded op.
func (im *importer) eval(n *onnxpb.NodeProto, ins []*cval) (*cval, error) {
	if err := need(ins, 1); err != nil {
		return nil, err
	}
	x := ins[0]
	switch n.OpType {
	case "Identity", "Dropout":
		return x, nil
	case "Cast":
		return cast(x, onnxpb.TensorProto_DataType(attrInt(n, "to", 0)))
	case "Neg", "Abs", "Floor", "Ceil", "Not":
		return mapUnary(n.OpType, x), nil
	case "Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Equal", "Less", "Greater", "LessOrEqual",
		"GreaterOrEqual", "And", "Or", "Xor":
		if err := need(ins, max(len(ins), 2)); err != nil {
			return nil, err
		}
		acc := ins[0]
		for _, y := range ins[1:] { // Max and Min take several
			var err error
			if acc, err = binaryFold(n.OpType, acc, y); err != nil {
				return nil, err
			}
		}
		return acc, nil
	case "Where":
		if err := need(ins, 3); err != nil {
			return nil, err
		}
		return where(ins[0], ins[1], ins[2])
	case "Gather":
		if err := need(ins, 2); err != nil {
			return nil, err
		}
		return gather(x, ins[1], attrInt(n, "axis", 0))
	case "Unsqueeze", "Squeeze":
		axes := attrInts(n, "axes")
		if len(ins) > 1 && ins[1] != nil {
			axes = ins[1].ints()
		}
		return squeezeConst(n.OpType == "Unsqueeze", x, axes)
	case "Concat":
		for i := range ins {
			if ins[i] == nil {
				return nil, fmt.Errorf("input %d missing", i)
			}
		}
		return concatConst(ins, attrInt(n, "axis", 0))
	case "Slice":
		starts, ends, axes, steps, err := im.sliceArgs(n)
		if err != nil {
			return nil, err
		}
		return sliceConst(x, starts, ends, axes, steps)
	case "Reshape":
		if err := need(ins, 2); err != nil {
			return nil, err
		}
		return reshapeConst(x, ins[1].ints(), attrInt(n, "allowzero", 0) != 0)
	case "Flatten":
		ax := clampAxis(attrInt(n, "axis", 1), len(x.dims))
		return withDims(x, []int{tensorCount(x.dims[:ax]), tensorCount(x.dims[ax:])}), nil
	case "Transpose":
		return transposeConst(x, attrInts(n, "perm"))
	case "ConstantOfShape":
		return constantOfShape(n, x)
	case "Range":
		if err := need(ins, 3); err != nil {
			return nil, err
		}
		return rangeConst(ins[0], ins[1], ins[2])
	case "Expand":
		if err := need(ins, 2); err != nil {
			return nil, err
		}
		ones := &cval{dims: ins[1].ints(), kind: x.kind}
		if err := checkFolded(ones.dims); err != nil {
			return nil, err
		}
		if x.kind == kFloat {
			ones.f = make([]float32, tensorCount(ones.dims))
		} else {
			ones.i = make([]int64, tensorCount(ones.dims))
		}
		return binaryFold("Add", x, ones)
	}
	return nil, fmt.Errorf("op %s cannot be folded", n.OpType)
}

// checkFolded refuses a folded shape with negative dims or more than
// maxFolded elements, before anything is allocated.
func checkFolded(dims []int) error {
	n := 1
	for _, d := range dims {
		if d < 0 || d > maxFolded || n > maxFolded/max(d, 1) {
			return fmt.Errorf("shape %v: negative or more than %d elements", dims, maxFolded)
		}
		n *= d
	}
	return nil
}

// withDims returns x's values under new dims (same count).
func withDims(x *cval, dims []int) *cval {
	return &cval{dims: dims, kind: x.kind, f: x.f, i: x.i}
}

// newLike allocates a constant of x's kind with the given dims.
func newLike(k kind, dims []int) (*cval, error) {
	if err := checkFolded(dims); err != nil {
		return nil, err
	}
	c := &cval{dims: dims, kind: k}
	if k == kFloat {
		c.f = make([]float32, tensorCount(dims))
	} else {
		c.i = make([]int64, tensorCount(dims))
	}
	return c, nil
}

// set stores v (float64) at k in c's kind.
func (c *cval) set(k int, v float64) {
	if c.kind == kFloat {
		c.f[k] = float32(v)
	} else {
		c.i[k] = int64(v)
	}
}

// copyElem copies element j of src to element k of dst (same kind).
func copyElem(dst *cval, k int, src *cval, j int) {
	if dst.kind == kFloat {
		dst.f[k] = src.f[j]
	} else {
		dst.i[k] = src.i[j]
	}
}

// cast converts a constant to another element type.
func cast(x *cval, to onnxpb.TensorProto_DataType) (*cval, error) {
	var k kind
	switch to {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_FLOAT16:
		k = kFloat
	case onnxpb.TensorProto_BOOL:
		k = kBool
	case onnxpb.TensorProto_INT64, onnxpb.TensorProto_INT32, onnxpb.TensorProto_INT16, onnxpb.TensorProto_INT8,
		onnxpb.TensorProto_UINT8, onnxpb.TensorProto_UINT16, onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		k = kInt
	default:
		return nil, fmt.Errorf("cast to %v is not supported", to)
	}
	out, err := newLike(k, x.dims)
	if err != nil {
		return nil, err
	}
	for i := range x.numel() {
		v := x.at(i)
		switch {
		case k == kBool && v != 0:
			v = 1
		case k == kInt:
			v = math.Trunc(v)
		}
		out.set(i, v)
	}
	return out, nil
}

// mapUnary applies an elementwise one-input op.
func mapUnary(op string, x *cval) *cval {
	out, _ := newLike(x.kind, slices.Clone(x.dims))
	for i := range x.numel() {
		v := x.at(i)
		switch op {
		case "Neg":
			v = -v
		case "Abs":
			v = math.Abs(v)
		case "Floor":
			v = math.Floor(v)
		case "Ceil":
			v = math.Ceil(v)
		case "Not":
			v = b2f(v == 0)
		}
		out.set(i, v)
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// broadcastDims returns numpy's broadcast of two shapes.
func broadcastDims(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := range r {
		da, db := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// bcastIndex maps a flat index of the broadcast shape out to a flat index
// of a tensor of shape dims.
func bcastIndex(k int, out, dims []int) int {
	idx, stride := 0, 1
	for i := len(out) - 1; i >= 0; i-- {
		c := k % out[i]
		k /= out[i]
		if j := i - (len(out) - len(dims)); j >= 0 {
			if dims[j] != 1 {
				idx += c * stride
			}
			stride *= dims[j]
		}
	}
	return idx
}

// binaryFold applies an elementwise two-input op with broadcasting.
// Integer division truncates, as ONNX Runtime does; a zero divisor is an
// error.
func binaryFold(op string, a, b *cval) (*cval, error) {
	dims, err := broadcastDims(a.dims, b.dims)
	if err != nil {
		return nil, err
	}
	k := a.kind
	if a.kind == kFloat || b.kind == kFloat {
		k = kFloat
	}
	switch op {
	case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor":
		k = kBool
	}
	out, err := newLike(k, dims)
	if err != nil {
		return nil, err
	}
	isInt := a.kind != kFloat && b.kind != kFloat
	for i := range out.numel() {
		x, y := a.at(bcastIndex(i, dims, a.dims)), b.at(bcastIndex(i, dims, b.dims))
		var v float64
		switch op {
		case "Add":
			v = x + y
		case "Sub":
			v = x - y
		case "Mul":
			v = x * y
		case "Div", "Mod":
			if isInt && y == 0 {
				return nil, errors.New("integer division by zero")
			}
			v = x / y
			if isInt {
				v = math.Trunc(v)
			}
			if op == "Mod" {
				v = math.Mod(x, y)
				if isInt && v != 0 && (v < 0) != (y < 0) {
					v += y // ONNX Mod with fmod 0: the sign of the divisor
				}
			}
		case "Max":
			v = max(x, y)
		case "Min":
			v = min(x, y)
		case "Equal":
			v = b2f(x == y)
		case "Less":
			v = b2f(x < y)
		case "Greater":
			v = b2f(x > y)
		case "LessOrEqual":
			v = b2f(x <= y)
		case "GreaterOrEqual":
			v = b2f(x >= y)
		case "And":
			v = b2f(x != 0 && y != 0)
		case "Or":
			v = b2f(x != 0 || y != 0)
		case "Xor":
			v = b2f((x != 0) != (y != 0))
		}
		out.set(i, v)
	}
	return out, nil
}

// where folds Where(cond, x, y).
func where(cond, x, y *cval) (*cval, error) {
	d1, err := broadcastDims(cond.dims, x.dims)
	if err != nil {
		return nil, err
	}
	dims, err := broadcastDims(d1, y.dims)
	if err != nil {
		return nil, err
	}
	k := x.kind
	if y.kind == kFloat {
		k = kFloat
	}
	out, err := newLike(k, dims)
	if err != nil {
		return nil, err
	}
	for i := range out.numel() {
		v := y.at(bcastIndex(i, dims, y.dims))
		if cond.at(bcastIndex(i, dims, cond.dims)) != 0 {
			v = x.at(bcastIndex(i, dims, x.dims))
		}
		out.set(i, v)
	}
	return out, nil
}
