package onnximport

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/internal/onnxpb"
)

// foldable are the ops evaluated at import when all their inputs are
// constants.
var foldable = append(slices.Clone(foldOps), "Add", "Sub", "Mul", "Div", "Concat", "Slice", "Squeeze",
	"Unsqueeze", "Reshape", "Identity", "Flatten", "Transpose", "Dropout")

// node lowers one ONNX node: folds it when its inputs are constants, or
// appends graph nodes.
func (im *importer) node(n *onnxpb.NodeProto) error {
	if len(n.Output) == 0 || n.Output[0] == "" {
		return fmt.Errorf("no output")
	}
	switch n.OpType {
	case "Constant":
		return im.constantNode(n)
	case "Shape":
		return im.shapeNode(n)
	}
	allConst := true
	for _, in := range n.Input {
		if in != "" && !im.isConst(in) {
			allConst = false
		}
	}
	if allConst && slices.Contains(foldable, n.OpType) {
		return im.fold(n)
	}
	switch n.OpType {
	case "Conv", "ConvTranspose":
		return im.conv(n)
	case "BatchNormalization":
		return im.batchNorm(n)
	case "Gemm", "MatMul":
		return im.gemm(n)
	case "MaxPool", "AveragePool":
		return im.pool(n)
	case "Relu", "Sigmoid", "HardSwish", "Identity", "LeakyRelu", "HardSigmoid", "Clip", "Dropout", "Cast":
		return im.unary(n)
	case "GlobalAveragePool", "ReduceMean":
		return im.globalPool(n)
	case "Add", "Sub", "Mul", "Div":
		return im.binary(n)
	case "Concat":
		return im.concat(n)
	case "Split":
		return im.split(n)
	case "Slice":
		return im.slice(n)
	case "Flatten", "Reshape", "Squeeze", "Unsqueeze":
		return im.reshape(n)
	case "Transpose":
		return im.transpose(n)
	case "Pad":
		return im.pad(n)
	}
	return fmt.Errorf("op %s works on constants only here, and an input is computed from the images", n.OpType)
}

// isConst reports whether a value is an initializer or a folded constant.
func (im *importer) isConst(name string) bool {
	if _, ok := im.consts[name]; ok {
		return true
	}
	_, ok := im.inits[name]
	return ok && !im.acts[name]
}

// constant returns a constant value, decoding an initializer on first use.
func (im *importer) constant(name string) (*cval, error) {
	if c, ok := im.consts[name]; ok {
		return c, nil
	}
	t, ok := im.inits[name]
	if !ok || im.acts[name] {
		return nil, fmt.Errorf("input %q must be a constant (an initializer or computed from constants)", name)
	}
	c, err := tensorValue(t, im.opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("initializer %q: %w", name, err)
	}
	im.consts[name] = c
	delete(im.inits, name) // its bytes are not needed again
	return c, nil
}

// input returns input i, or "" when absent.
func input(n *onnxpb.NodeProto, i int) string {
	if i < len(n.Input) {
		return n.Input[i]
	}
	return ""
}

// act returns input i, which must be an activation, and its shape.
func (im *importer) act(n *onnxpb.NodeProto, i int) (string, []int, error) {
	name := input(n, i)
	if !im.acts[name] {
		if name == "" {
			return "", nil, fmt.Errorf("input %d missing", i)
		}
		return "", nil, fmt.Errorf("input %q is not computed from the images (the op needs an activation there)", name)
	}
	s, err := im.shape(name)
	return name, s, err
}

// optConst returns optional constant input i, or nil when absent.
func (im *importer) optConst(n *onnxpb.NodeProto, i int) (*cval, error) {
	if input(n, i) == "" {
		return nil, nil
	}
	return im.constant(input(n, i))
}

// conv lowers Conv and ConvTranspose (2-D).
func (im *importer) conv(n *onnxpb.NodeProto) error {
	x, xs, err := im.act(n, 0)
	if err != nil {
		return err
	}
	w, err := im.constant(input(n, 1))
	if err != nil {
		return fmt.Errorf("weight: %w", err)
	}
	b, err := im.optConst(n, 2)
	if err != nil {
		return fmt.Errorf("bias: %w", err)
	}
	if len(w.dims) != 4 || len(xs) != 3 {
		return fmt.Errorf("weight %v on input %v: only 2-D convolutions are supported", w.dims, xs)
	}
	group := attrInt(n, "group", 1)
	if group < 1 || group > xs[0] {
		return fmt.Errorf("group %d for %d input channels", group, xs[0])
	}
	kernel, err := pair(n, "kernel_shape", 0)
	if err != nil {
		return err
	}
	if kernel == [2]int{} {
		kernel = [2]int{w.dims[2], w.dims[3]}
	}
	if kernel != [2]int{w.dims[2], w.dims[3]} {
		return fmt.Errorf("kernel_shape %v, weight %v", kernel, w.dims)
	}
	stride, dil, pads, err := spatial(n, kernel, xs[1:])
	if err != nil {
		return err
	}
	a := graph.Attrs{Kernel: kernel, Stride: stride, Dilation: dil, Pads: pads, Group: group, Bias: b != nil}
	op, wantIn := graph.Conv, w.dims[1]*group
	a.Out = w.dims[0]
	if n.OpType == "ConvTranspose" {
		op, wantIn, a.Out = graph.ConvTranspose, w.dims[0], w.dims[1]*group
		if attr(n, "output_shape") != nil || attrString(n, "auto_pad", "NOTSET") != "NOTSET" {
			return fmt.Errorf("output_shape and auto_pad are not supported for ConvTranspose; export with explicit pads")
		}
		if a.OutputPadding, err = pair(n, "output_padding", 0); err != nil {
			return err
		}
	}
	if wantIn != xs[0] {
		return fmt.Errorf("weight %v with group %d wants %d input channels, the input has %d", w.dims, group, wantIn, xs[0])
	}
	name := im.nodeName(n, input(n, 1))
	if err := im.param(name, "weight", w, w.dims...); err != nil {
		return err
	}
	if b != nil {
		if err := im.param(name, "bias", b, a.Out); err != nil {
			return err
		}
	}
	im.add(&graph.Node{Name: name, Op: op, Inputs: []string{x}, Outputs: n.Output[:1], Attrs: a})
	return nil
}

// batchNorm lowers BatchNormalization in inference mode.
func (im *importer) batchNorm(n *onnxpb.NodeProto) error {
	x, xs, err := im.act(n, 0)
	if err != nil {
		return err
	}
	if attrInt(n, "training_mode", 0) != 0 {
		return fmt.Errorf("training_mode 1: export the model in eval mode")
	}
	if len(xs) < 1 {
		return fmt.Errorf("input %v has no channel axis", xs)
	}
	name := im.nodeName(n, input(n, 1))
	for i, p := range []string{"weight", "bias", "running_mean", "running_var"} {
		c, err := im.constant(input(n, i+1))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if err := im.param(name, p, c, xs[0]); err != nil {
			return err
		}
	}
	a := graph.Attrs{
		Eps:      short(attrFloat(n, "epsilon", 1e-5)),
		Momentum: 1 - short(attrFloat(n, "momentum", 0.9)),
	}
	im.add(&graph.Node{Name: name, Op: graph.BatchNorm, Inputs: []string{x}, Outputs: n.Output[:1], Attrs: a})
	return nil
}

// short widens a float32 attribute to the float64 it was written from
// (1e-5, not 9.99999974e-06), by its shortest decimal form.
func short(f float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return v
}

// gemm lowers Gemm and MatMul with a constant weight to a Gemm node with a
// [N][C] weight: transB, alpha and beta are folded into the parameters.
func (im *importer) gemm(n *onnxpb.NodeProto) error {
	x, xs, err := im.act(n, 0)
	if err != nil {
		return err
	}
	if len(xs) != 1 {
		return fmt.Errorf("input %v per image: only [batch, features] inputs are supported (add a Flatten)", xs)
	}
	w, err := im.constant(input(n, 1))
	if err != nil {
		return fmt.Errorf("weight: %w", err)
	}
	if len(w.dims) != 2 {
		return fmt.Errorf("weight %v, want a matrix", w.dims)
	}
	transB := n.OpType == "Gemm" && attrInt(n, "transB", 0) != 0
	if n.OpType == "Gemm" && attrInt(n, "transA", 0) != 0 {
		return fmt.Errorf("transA 1 is not supported")
	}
	alpha, beta := attrFloat(n, "alpha", 1), attrFloat(n, "beta", 1)
	if n.OpType == "MatMul" {
		alpha, beta = 1, 1
	}
	N, C := w.dims[1], w.dims[0]
	if transB {
		N, C = C, N
	}
	if C != xs[0] {
		return fmt.Errorf("weight %v (transB %v) wants %d input features, the input has %d", w.dims, transB, C, xs[0])
	}
	wf := w.floats()
	if !transB || alpha != 1 {
		out := make([]float32, N*C)
		for i := range N {
			for j := range C {
				v := wf[i*C+j]
				if !transB {
					v = wf[j*N+i]
				}
				out[i*C+j] = alpha * v
			}
		}
		w = &cval{dims: []int{N, C}, kind: kFloat, f: out}
	}
	var bias *cval
	if n.OpType == "Gemm" {
		if bias, err = im.optConst(n, 2); err != nil {
			return fmt.Errorf("bias: %w", err)
		}
	}
	outs := n.Output[:1]
	if n.OpType == "MatMul" {
		if add, c := im.biasAdd(n.Output[0], N); add != nil {
			bias, outs = c, add.Output[:1]
			im.fused[add] = true
		}
	}
	name := im.nodeName(n, input(n, 1))
	if err := im.param(name, "weight", w, N, C); err != nil {
		return err
	}
	if bias != nil {
		bv, err := gemmBias(bias, N, beta)
		if err != nil {
			return err
		}
		if err := im.param(name, "bias", bv, N); err != nil {
			return err
		}
	}
	a := graph.Attrs{Out: N, Bias: bias != nil}
	im.add(&graph.Node{Name: name, Op: graph.Gemm, Inputs: []string{x}, Outputs: outs, Attrs: a})
	return nil
}

// biasAdd finds the Add that adds a constant [N] bias to a MatMul's output
// t, when that Add is t's only reader (t is not the graph output): the pair
// is torch's Linear without Gemm and becomes one Gemm node with a bias.
func (im *importer) biasAdd(t string, n int) (*onnxpb.NodeProto, *cval) {
	var add *onnxpb.NodeProto
	for _, nd := range im.graph.Node {
		if slices.Contains(nd.Input, t) {
			if add != nil {
				return nil, nil
			}
			add = nd
		}
	}
	if add == nil || add.OpType != "Add" || len(add.Input) != 2 || len(add.Output) == 0 || add.Output[0] == "" || t == im.graph.Output[0].Name {
		return nil, nil
	}
	other := add.Input[0]
	if other == t {
		other = add.Input[1]
	}
	if other == t || !im.isConst(other) {
		return nil, nil
	}
	c, err := im.constant(other)
	if err != nil || c.numel() != n || len(c.dims) > 2 || len(c.dims) == 2 && c.dims[0] != 1 {
		return nil, nil
	}
	return add, c
}

// gemmBias broadcasts Gemm's C ([N], [1 N], [1] or a scalar) to [N] times
// beta.
func gemmBias(c *cval, n int, beta float32) (*cval, error) {
	if tensorCount(c.dims) != 1 && tensorCount(c.dims) != n || len(c.dims) > 2 || len(c.dims) == 2 && c.dims[0] != 1 {
		return nil, fmt.Errorf("bias %v does not broadcast to [1 %d]", c.dims, n)
	}
	f := c.floats()
	if len(f) == n && beta == 1 {
		return c, nil
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = beta * f[i%len(f)]
	}
	return &cval{dims: []int{n}, kind: kFloat, f: out}, nil
}

// tensorCount is the element count of dims (already bounded).
func tensorCount(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// pool lowers MaxPool and AveragePool (2-D).
func (im *importer) pool(n *onnxpb.NodeProto) error {
	x, xs, err := im.act(n, 0)
	if err != nil {
		return err
	}
	if len(xs) != 3 {
		return fmt.Errorf("input %v: only 2-D pooling is supported", xs)
	}
	kernel, err := pair(n, "kernel_shape", 0)
	if err != nil {
		return err
	}
	stride, dil, pads, err := spatial(n, kernel, xs[1:])
	if err != nil {
		return err
	}
	if attrInt(n, "storage_order", 0) != 0 {
		return fmt.Errorf("storage_order 1 is not supported")
	}
	a := graph.Attrs{Kernel: kernel, Stride: stride, Pads: pads, Dilation: dil, CeilMode: attrInt(n, "ceil_mode", 0) != 0}
	op := graph.MaxPool
	if n.OpType == "AveragePool" {
		op = graph.AveragePool
		a.CountIncludePad = attrInt(n, "count_include_pad", 0) != 0
		if dil != [2]int{1, 1} {
			return fmt.Errorf("dilated AveragePool is not supported")
		}
	}
	im.add(&graph.Node{Name: im.nodeName(n, ""), Op: op, Inputs: []string{x}, Outputs: n.Output[:1], Attrs: a})
	return nil
}

// globalPool lowers GlobalAveragePool, and ReduceMean over H and W.
func (im *importer) globalPool(n *onnxpb.NodeProto) error {
	x, xs, err := im.act(n, 0)
	if err != nil {
		return err
	}
	if len(xs) != 3 {
		return fmt.Errorf("input %v, want [C H W] per image", xs)
	}
	keep := true
	if n.OpType == "ReduceMean" {
		keep = attrInt(n, "keepdims", 1) != 0
		axes := attrInts(n, "axes")
		if input(n, 1) != "" {
			c, err := im.constant(input(n, 1))
			if err != nil {
				return fmt.Errorf("axes: %w", err)
			}
			axes = c.ints()
		}
		p, err := axesOf(axes, len(xs))
		slices.Sort(p)
		if err != nil || !slices.Equal(p, []int{1, 2}) {
			return fmt.Errorf("axes %v: only the mean over H and W (axes 2 and 3) is supported", axes)
		}
	}
	a := graph.Attrs{KeepDims: keep}
	im.add(&graph.Node{Name: im.nodeName(n, ""), Op: graph.GlobalAveragePool, Inputs: []string{x}, Outputs: n.Output[:1], Attrs: a})
	return nil
}

// unary lowers the one-input elementwise ops.
func (im *importer) unary(n *onnxpb.NodeProto) error {
	x, _, err := im.act(n, 0)
	if err != nil {
		return err
	}
	nd := &graph.Node{Name: im.nodeName(n, ""), Op: graph.Op(n.OpType), Inputs: []string{x}, Outputs: n.Output[:1]}
	switch n.OpType {
	case "LeakyRelu":
		nd.Attrs.Alpha = attrFloat(n, "alpha", 0.01)
	case "HardSigmoid":
		nd.Attrs.Alpha, nd.Attrs.Beta = attrFloat(n, "alpha", 0.2), attrFloat(n, "beta", 0.5)
	case "Cast":
		if to := onnxpb.TensorProto_DataType(attrInt(n, "to", 0)); to != onnxpb.TensorProto_FLOAT {
			return fmt.Errorf("cast of an activation to %v: only float is supported", to)
		}
		nd.Op = graph.Identity
	case "Clip":
		lo, hi := attrFloat(n, "min", float32(math.Inf(-1))), attrFloat(n, "max", float32(math.Inf(1)))
		for i, p := range []*float32{&lo, &hi} {
			c, err := im.optConst(n, i+1)
			if err != nil {
				return err
			}
			if c != nil {
				if c.numel() != 1 {
					return fmt.Errorf("clip bound %v is not a scalar", c.dims)
				}
				*p = float32(c.at(0))
			}
		}
		// A missing bound is the largest float, not an infinity: the same
		// clamp for every finite input, and the graph's JSON (model files)
		// cannot hold infinities.
		nd.Attrs.Min, nd.Attrs.Max = finite(lo), finite(hi)
	case "Dropout":
		nd.Attrs.Ratio = attrFloat(n, "ratio", 0.5)
		if r, err := im.optConst(n, 1); err != nil || r != nil && r.numel() == 1 {
			if err != nil {
				return err
			}
			nd.Attrs.Ratio = float32(r.at(0))
		}
		if t, err := im.optConst(n, 2); err != nil || t != nil && t.numel() == 1 && t.at(0) != 0 {
			return fmt.Errorf("training_mode must be a false constant (export in eval mode): %v", err)
		}
	}
	im.add(nd)
	return nil
}

// finite replaces an infinite bound by the largest float of its sign.
func finite(v float32) float32 {
	switch {
	case math.IsInf(float64(v), 1):
		return math.MaxFloat32
	case math.IsInf(float64(v), -1):
		return -math.MaxFloat32
	}
	return v
}
