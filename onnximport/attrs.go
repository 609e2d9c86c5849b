package onnximport

import (
	"fmt"
	"slices"

	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// attr returns the node's attribute of that name, or nil.
func attr(n *onnxpb.NodeProto, name string) *onnxpb.AttributeProto {
	for _, a := range n.Attribute {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// attrInt returns an integer attribute or def.
func attrInt(n *onnxpb.NodeProto, name string, def int) int {
	if a := attr(n, name); a != nil {
		return clampInt64(a.I)
	}
	return def
}

// attrFloat returns a float attribute or def.
func attrFloat(n *onnxpb.NodeProto, name string, def float32) float32 {
	if a := attr(n, name); a != nil {
		return a.F
	}
	return def
}

// attrInts returns an integer-list attribute, or nil when absent.
func attrInts(n *onnxpb.NodeProto, name string) []int {
	a := attr(n, name)
	if a == nil {
		return nil
	}
	out := make([]int, len(a.Ints))
	for i, v := range a.Ints {
		out[i] = clampInt64(v)
	}
	return out
}

// attrString returns a string attribute or def.
func attrString(n *onnxpb.NodeProto, name, def string) string {
	if a := attr(n, name); a != nil {
		return string(a.S)
	}
	return def
}

// pair reads a two-element spatial attribute, defaulting to (def, def).
func pair(n *onnxpb.NodeProto, name string, def int) ([2]int, error) {
	v := attrInts(n, name)
	if v == nil {
		return [2]int{def, def}, nil
	}
	if len(v) != 2 {
		return [2]int{}, fmt.Errorf("attribute %s %v: want 2 values (2-D)", name, v)
	}
	return [2]int{v[0], v[1]}, nil
}

// spatial reads the kernel, strides, dilations and pads of a 2-D conv or
// pool over an input of size hw, resolving auto_pad.
func spatial(n *onnxpb.NodeProto, kernel [2]int, hw []int) (stride, dil [2]int, pads [4]int, err error) {
	if stride, err = pair(n, "strides", 1); err != nil {
		return
	}
	if dil, err = pair(n, "dilations", 1); err != nil {
		return
	}
	for i := range 2 {
		if stride[i] < 1 || dil[i] < 1 || kernel[i] < 1 {
			err = fmt.Errorf("kernel %v, strides %v and dilations %v must be positive", kernel, stride, dil)
			return
		}
	}
	if p := attrInts(n, "pads"); p != nil {
		if len(p) != 4 {
			err = fmt.Errorf("attribute pads %v: want 4 values (2-D)", p)
			return
		}
		copy(pads[:], p)
	}
	switch ap := attrString(n, "auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
	case "VALID":
		pads = [4]int{}
	case "SAME_UPPER", "SAME_LOWER":
		for i := range 2 {
			out := (hw[i] + stride[i] - 1) / stride[i]
			total := max(0, (out-1)*stride[i]+(kernel[i]-1)*dil[i]+1-hw[i])
			lo := total / 2
			if ap == "SAME_LOWER" {
				lo = total - total/2
			}
			pads[i], pads[i+2] = lo, total-lo
		}
	default:
		err = fmt.Errorf("auto_pad %q is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER", ap)
	}
	return
}

// axisOf maps an ONNX axis of a tensor with batch (rank r+1 for a
// per-image rank r) to the per-image axis; the batch axis is refused.
func axisOf(axis, rank int) (int, error) {
	full := rank + 1
	if axis < 0 {
		axis += full
	}
	if axis < 0 || axis >= full {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, full)
	}
	if axis == 0 {
		return 0, fmt.Errorf("the op works along the batch axis, which must stay in place")
	}
	return axis - 1, nil
}

// axesOf maps a list of ONNX axes (see axisOf), refusing repeats.
func axesOf(axes []int, rank int) ([]int, error) {
	out := make([]int, len(axes))
	for i, a := range axes {
		p, err := axisOf(a, rank)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out[:i], p) {
			return nil, fmt.Errorf("axes %v repeat an axis", axes)
		}
		out[i] = p
	}
	return out, nil
}
