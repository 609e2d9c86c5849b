package onnximport

import (
	"fmt"
	"slices"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/onnxpb"
	"github.com/sgcnn/sgcnn/tensor"
)

// binary lowers Add, Sub, Mul and Div with two activations, or with one
// activation and a constant (then the node's Const, broadcast per image).
func (im *importer) binary(n *onnxpb.NodeProto) error {
	if len(n.Input) != 2 {
		return fmt.Errorf("%d inputs, want 2", len(n.Input))
	}
	a, b := n.Input[0], n.Input[1]
	nd := &graph.Node{Op: graph.Op(n.OpType), Outputs: n.Output[:1]}
	if im.acts[a] && im.acts[b] {
		nd.Name, nd.Inputs = im.nodeName(n, ""), []string{a, b}
		im.add(nd)
		return nil
	}
	ci := 1 // the constant's input index
	if !im.acts[a] {
		ci, b = 0, a
	}
	x, xs, err := im.act(n, 1-ci)
	if err != nil {
		return err
	}
	c, err := im.constant(b)
	if err != nil {
		return err
	}
	dims := c.dims
	if len(dims) > len(xs) {
		if len(dims) > len(xs)+1 || dims[0] != 1 {
			return fmt.Errorf("constant %v does not broadcast over one image %v with the batch kept", c.dims, xs)
		}
		dims = dims[1:]
	}
	nd.Name, nd.Inputs = im.nodeName(n, ""), []string{x}
	nd.Attrs.ConstFirst = ci == 0 && (nd.Op == graph.Sub || nd.Op == graph.Div)
	im.weights[nd.Name+".const"] = &tensor.Tensor{Shape: slices.Clone(dims), Data: c.floats()}
	nd.Const = im.weights[nd.Name+".const"]
	im.add(nd)
	return nil
}

// concat lowers Concat of activations along a per-image axis.
func (im *importer) concat(n *onnxpb.NodeProto) error {
	_, xs, err := im.act(n, 0)
	if err != nil {
		return err
	}
	for i := range n.Input {
		if _, _, err := im.act(n, i); err != nil {
			return fmt.Errorf("%w (constants in a Concat with activations are not supported)", err)
		}
	}
	ax, err := axisOf(attrInt(n, "axis", 0), len(xs))
	if err != nil {
		return err
	}
	im.add(&graph.Node{Name: im.nodeName(n, ""), Op: graph.Concat, Inputs: slices.Clone(n.Input), Outputs: n.Output[:1], Attrs: graph.Attrs{Axis: ax}})
	return nil
}

// split lowers Split: sizes from the input (opset 13), the split
// attribute, or equal parts.
func (im *importer) split(n *onnxpb.NodeProto) error {
	x, xs, err := im.act(n, 0)
	if err != nil {
		return err
	}
	ax, err := axisOf(attrInt(n, "axis", 0), len(xs))
	if err != nil {
		return err
	}
	sizes := attrInts(n, "split")
	if input(n, 1) != "" {
		c, err := im.constant(input(n, 1))
		if err != nil {
			return fmt.Errorf("split: %w", err)
		}
		sizes = c.ints()
	}
	if sizes == nil {
		k := len(n.Output)
		if k < 1 || xs[ax]%k != 0 {
			return fmt.Errorf("axis of %d does not split into %d equal parts", xs[ax], k)
		}
		for range k {
			sizes = append(sizes, xs[ax]/k)
		}
	}
	if len(sizes) != len(n.Output) {
		return fmt.Errorf("%d split sizes for %d outputs", len(sizes), len(n.Output))
	}
	im.add(&graph.Node{Name: im.nodeName(n, ""), Op: graph.Split, Inputs: []string{x}, Outputs: slices.Clone(n.Output), Attrs: graph.Attrs{Axis: ax, Sizes: sizes}})
	return nil
}

// sliceArgs reads Slice's starts, ends, axes and steps from inputs (opset
// 10 on) or attributes.
func (im *importer) sliceArgs(n *onnxpb.NodeProto) (starts, ends, axes, steps []int, err error) {
	starts, ends, axes = attrInts(n, "starts"), attrInts(n, "ends"), attrInts(n, "axes")
	lists := []*[]int{&starts, &ends, &axes, &steps}
	for i := 1; i < len(n.Input) && i <= 4; i++ {
		c, err := im.optConst(n, i)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if c != nil {
			*lists[i-1] = c.ints()
		}
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, i)
		}
	}
	if steps == nil {
		for range starts {
			steps = append(steps, 1)
		}
	}
	if len(ends) != len(starts) || len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, nil, nil, nil, fmt.Errorf("starts %v, ends %v, axes %v and steps %v differ in length", starts, ends, axes, steps)
	}
	return starts, ends, axes, steps, nil
}

// slice lowers Slice of an activation along per-image axes; a slice of the
// batch axis must take it whole.
func (im *importer) slice(n *onnxpb.NodeProto) error {
	x, xs, err := im.act(n, 0)
	if err != nil {
		return err
	}
	starts, ends, axes, steps, err := im.sliceArgs(n)
	if err != nil {
		return err
	}
	var a graph.Attrs
	for i, axis := range axes {
		if axis == 0 || axis == -len(xs)-1 {
			if starts[i] != 0 || ends[i] < int(im.batch) || steps[i] != 1 {
				return fmt.Errorf("slice of the batch axis: the batch must stay whole")
			}
			continue
		}
		p, err := axisOf(axis, len(xs))
		if err != nil {
			return err
		}
		if steps[i] < 1 {
			return fmt.Errorf("step %d: only positive steps are supported", steps[i])
		}
		a.Axes, a.Starts, a.Ends, a.Steps = append(a.Axes, p), append(a.Starts, starts[i]), append(a.Ends, ends[i]), append(a.Steps, steps[i])
	}
	op := graph.Slice
	if len(a.Axes) == 0 {
		op = graph.Identity
	}
	im.add(&graph.Node{Name: im.nodeName(n, ""), Op: op, Inputs: []string{x}, Outputs: n.Output[:1], Attrs: a})
	return nil
}

// reshape lowers Reshape, Flatten, Squeeze and Unsqueeze of an activation
// to a graph Reshape (or Flatten) with a static per-image target.
func (im *importer) reshape(n *onnxpb.NodeProto) error {
	x, xs, err := im.act(n, 0)
	if err != nil {
		return err
	}
	var target []int
	switch n.OpType {
	case "Flatten":
		ax := attrInt(n, "axis", 1)
		if ax < 0 {
			ax += len(xs) + 1
		}
		if ax < 1 || ax > len(xs) {
			return fmt.Errorf("axis %d: Flatten must keep the batch axis alone in front", attrInt(n, "axis", 1))
		}
		if ax == 1 {
			im.add(&graph.Node{Name: im.nodeName(n, ""), Op: graph.Flatten, Inputs: []string{x}, Outputs: n.Output[:1]})
			return nil
		}
		target = []int{tensorCount(xs[:ax-1]), tensorCount(xs[ax-1:])}
	case "Reshape":
		c, err := im.constant(input(n, 1))
		if err != nil {
			return fmt.Errorf("shape: %w", err)
		}
		if target, err = im.reshapeTarget(c.ints(), xs, attrInt(n, "allowzero", 0) != 0); err != nil {
			return err
		}
	default:
		axes := attrInts(n, "axes")
		if input(n, 1) != "" {
			c, err := im.constant(input(n, 1))
			if err != nil {
				return fmt.Errorf("axes: %w", err)
			}
			axes = c.ints()
		}
		if target, err = squeezeShape(n.OpType == "Unsqueeze", xs, axes); err != nil {
			return err
		}
	}
	im.add(&graph.Node{Name: im.nodeName(n, ""), Op: graph.Reshape, Inputs: []string{x}, Outputs: n.Output[:1], Attrs: graph.Attrs{Shape: target}})
	return nil
}

// reshapeTarget turns an ONNX Reshape target (with the batch) into the
// per-image shape: its first entry must keep the batch (0, -1 or the batch
// value); 0 copies the input's dimension and one -1 is inferred.
func (im *importer) reshapeTarget(t, xs []int, allowZero bool) ([]int, error) {
	if len(t) < 2 || !(t[0] == 0 && !allowZero || t[0] == -1 || t[0] == int(im.batch)) {
		return nil, fmt.Errorf("target %v: the first dimension must keep the batch (0, -1 or %d) and at least one more must follow", t, im.batch)
	}
	out := slices.Clone(t[1:])
	free, known := -1, 1
	for i, d := range out {
		switch {
		case d == 0 && !allowZero && i < len(xs):
			out[i] = xs[i]
		case d == -1 && free < 0 && t[0] != -1:
			free = i
			continue
		case d < 1:
			return nil, fmt.Errorf("target %v: dimension %d cannot be resolved per image", t, d)
		}
		if known > maxElems/out[i] {
			return nil, fmt.Errorf("target %v is too large", t)
		}
		known *= out[i]
	}
	have := tensorCount(xs)
	if free >= 0 {
		if have%known != 0 {
			return nil, fmt.Errorf("target %v does not divide the %d values of one image %v", t, have, xs)
		}
		out[free] = have / known
	} else if known != have {
		return nil, fmt.Errorf("target %v holds %d values per image, the input %v holds %d (the batch would change)", t, known, xs, have)
	}
	return out, nil
}

// squeezeShape applies Squeeze or Unsqueeze axes (ONNX, with the batch) to
// a per-image shape.
func squeezeShape(unsqueeze bool, xs, axes []int) ([]int, error) {
	if unsqueeze {
		out := slices.Clone(xs)
		rank := len(xs) + len(axes)
		norm := make([]int, len(axes))
		for i, a := range axes {
			if a < 0 {
				a += rank + 1
			}
			if a < 1 || a > rank {
				return nil, fmt.Errorf("unsqueeze axes %v: out of range or at the batch axis", axes)
			}
			norm[i] = a - 1
		}
		slices.Sort(norm)
		for i, a := range norm {
			if i > 0 && norm[i-1] == a {
				return nil, fmt.Errorf("unsqueeze axes %v repeat", axes)
			}
			out = slices.Insert(out, a, 1)
		}
		return out, nil
	}
	if axes == nil {
		out := []int{}
		for _, d := range xs {
			if d != 1 {
				out = append(out, d)
			}
		}
		return out, nil
	}
	p, err := axesOf(axes, len(xs))
	if err != nil {
		return nil, err
	}
	var out []int
	for i, d := range xs {
		if slices.Contains(p, i) {
			if d != 1 {
				return nil, fmt.Errorf("squeeze of axis %d of length %d", i+1, d)
			}
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// transpose lowers Transpose; the batch axis must stay first.
func (im *importer) transpose(n *onnxpb.NodeProto) error {
	x, xs, err := im.act(n, 0)
	if err != nil {
		return err
	}
	perm := attrInts(n, "perm")
	if perm == nil {
		return fmt.Errorf("no perm: the default reverses the axes and would move the batch")
	}
	if len(perm) != len(xs)+1 || perm[0] != 0 {
		return fmt.Errorf("perm %v must keep the batch axis 0 in front (input rank %d)", perm, len(xs)+1)
	}
	p := make([]int, len(xs))
	for i, v := range perm[1:] {
		p[i] = v - 1
	}
	im.add(&graph.Node{Name: im.nodeName(n, ""), Op: graph.Transpose, Inputs: []string{x}, Outputs: n.Output[:1], Attrs: graph.Attrs{Perm: p}})
	return nil
}

// pad lowers a constant-mode Pad: pads from the input (opset 11 on) or the
// attribute, none on the batch axis.
func (im *importer) pad(n *onnxpb.NodeProto) error {
	x, xs, err := im.act(n, 0)
	if err != nil {
		return err
	}
	if mode := attrString(n, "mode", "constant"); mode != "constant" {
		return fmt.Errorf("mode %q: only constant padding is supported", mode)
	}
	pads := attrInts(n, "pads")
	value := attrFloat(n, "value", 0)
	if input(n, 1) != "" {
		c, err := im.constant(input(n, 1))
		if err != nil {
			return fmt.Errorf("pads: %w", err)
		}
		pads = c.ints()
	}
	if c, err := im.optConst(n, 2); err != nil || c != nil {
		if err != nil {
			return fmt.Errorf("constant_value: %w", err)
		}
		if c.numel() != 1 {
			return fmt.Errorf("constant_value %v is not a scalar", c.dims)
		}
		value = float32(c.at(0))
	}
	axes := make([]int, len(xs)+1)
	for i := range axes {
		axes[i] = i
	}
	if c, err := im.optConst(n, 3); err != nil || c != nil {
		if err != nil {
			return fmt.Errorf("axes: %w", err)
		}
		axes = c.ints()
	}
	if len(pads) != 2*len(axes) {
		return fmt.Errorf("%d pads for %d axes", len(pads), len(axes))
	}
	a := graph.Attrs{PadBefore: make([]int, len(xs)), PadAfter: make([]int, len(xs)), Value: value}
	for i, ax := range axes {
		lo, hi := pads[i], pads[i+len(axes)]
		if ax < 0 {
			ax += len(xs) + 1
		}
		if ax < 0 || ax > len(xs) || lo < 0 || hi < 0 || ax == 0 && (lo != 0 || hi != 0) {
			return fmt.Errorf("pads %v on axes %v: negative, out of range or on the batch axis", pads, axes)
		}
		if ax > 0 {
			a.PadBefore[ax-1], a.PadAfter[ax-1] = lo, hi
		}
	}
	im.add(&graph.Node{Name: im.nodeName(n, ""), Op: graph.Pad, Inputs: []string{x}, Outputs: n.Output[:1], Attrs: a})
	return nil
}
