package graph

import (
	"fmt"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// Op is a node's operation. The names are ONNX's operator names, so that
// import and export map one to one; ShortcutA is sgcnn's own (the CIFAR
// ResNets' parameter-free shortcut, exported as Slice and Pad).
type Op string

// The operations a graph may hold.
const (
	Conv              Op = "Conv"               // params: weight [N][C/group][KH][KW], bias [N] (optional)
	ConvTranspose     Op = "ConvTranspose"      // params: weight [C][N/group][KH][KW], bias [N] (optional)
	BatchNorm         Op = "BatchNormalization" // params: weight, bias; buffers: running_mean, running_var
	Gemm              Op = "Gemm"               // a linear layer: params weight [N][C], bias [N] (optional); input flattened to [C]
	Relu              Op = "Relu"
	LeakyRelu         Op = "LeakyRelu" // Attrs.Alpha
	Clip              Op = "Clip"      // Attrs.Min, Attrs.Max (ReLU6: 0, 6)
	Sigmoid           Op = "Sigmoid"
	HardSigmoid       Op = "HardSigmoid" // max(0, min(1, Alpha*x + Beta))
	HardSwish         Op = "HardSwish"   // x * HardSigmoid(x) with Alpha 1/6, Beta 0.5
	Add               Op = "Add"         // two inputs, or one input and Const; numpy broadcasting per image
	Sub               Op = "Sub"
	Mul               Op = "Mul"
	Div               Op = "Div"
	Concat            Op = "Concat"  // Attrs.Axis
	Split             Op = "Split"   // Attrs.Axis, Attrs.Sizes; several outputs
	Slice             Op = "Slice"   // Attrs.Axes, Starts, Ends, Steps (per-image axes, ends clamped)
	MaxPool           Op = "MaxPool" // Attrs.Kernel, Stride, Pads, Dilation, CeilMode
	AveragePool       Op = "AveragePool"
	GlobalAveragePool Op = "GlobalAveragePool" // Attrs.KeepDims: [C 1 1] when true, else [C]
	Flatten           Op = "Flatten"           // to [prod(shape)] (ONNX axis 1)
	Reshape           Op = "Reshape"           // Attrs.Shape: the per-image target shape, fully known
	Transpose         Op = "Transpose"         // Attrs.Perm over per-image axes
	Dropout           Op = "Dropout"           // Attrs.Ratio; identity in eval mode
	Identity          Op = "Identity"
	Pad               Op = "Pad"       // Attrs.PadBefore/PadAfter per per-image axis, Attrs.Value; constant mode only
	ShortcutA         Op = "ShortcutA" // x[:, :, ::Stride, ::Stride], channels zero-padded to Attrs.Out
)

// Attrs are an op's attributes. Only the fields an op's comment names are
// read; the zero value of the rest is ignored. Spatial pairs are
// (height, width); Pads are (top, left, bottom, right) as ONNX orders them.
type Attrs struct {
	Out      int    `json:"out,omitempty"`      // Conv, ConvTranspose: filters N; Gemm: output features; ShortcutA: output channels
	Kernel   [2]int `json:"kernel,omitempty"`   // Conv, ConvTranspose, pools
	Stride   [2]int `json:"stride,omitempty"`   // Conv, ConvTranspose, pools, ShortcutA (both equal)
	Pads     [4]int `json:"pads,omitempty"`     // Conv, ConvTranspose, pools
	Dilation [2]int `json:"dilation,omitempty"` // Conv, ConvTranspose, MaxPool (0 means 1)
	Group    int    `json:"group,omitempty"`    // Conv, ConvTranspose (0 means 1)
	Bias     bool   `json:"bias,omitempty"`     // Conv, ConvTranspose, Gemm: has a bias

	OutputPadding [2]int `json:"output_padding,omitempty"` // ConvTranspose

	CeilMode        bool `json:"ceil_mode,omitempty"`         // pools
	CountIncludePad bool `json:"count_include_pad,omitempty"` // AveragePool
	KeepDims        bool `json:"keepdims,omitempty"`          // GlobalAveragePool

	Eps      float64 `json:"eps,omitempty"`      // BatchNorm
	Momentum float64 `json:"momentum,omitempty"` // BatchNorm (PyTorch's sense: weight of the new batch)

	Alpha float32 `json:"alpha,omitempty"` // LeakyRelu, HardSigmoid
	Beta  float32 `json:"beta,omitempty"`  // HardSigmoid
	Min   float32 `json:"min,omitempty"`   // Clip
	Max   float32 `json:"max,omitempty"`   // Clip
	Ratio float32 `json:"ratio,omitempty"` // Dropout

	Axis   int   `json:"axis,omitempty"`   // Concat, Split: per-image axis (0 is channels)
	Sizes  []int `json:"sizes,omitempty"`  // Split: one size per output
	Axes   []int `json:"axes,omitempty"`   // Slice: per-image axes
	Starts []int `json:"starts,omitempty"` // Slice
	Ends   []int `json:"ends,omitempty"`   // Slice (clamped to the axis length)
	Steps  []int `json:"steps,omitempty"`  // Slice (positive)
	Perm   []int `json:"perm,omitempty"`   // Transpose: per-image axes
	Shape  []int `json:"shape,omitempty"`  // Reshape: per-image target shape

	PadBefore []int   `json:"pad_before,omitempty"` // Pad: per per-image axis
	PadAfter  []int   `json:"pad_after,omitempty"`  // Pad
	Value     float32 `json:"value,omitempty"`      // Pad: the constant

	// ConstFirst: for Sub and Div with a Const operand, the constant is the
	// left operand (Const - x, Const / x).
	ConstFirst bool `json:"const_first,omitempty"`
}

// Node is one operation of a graph. Its inputs and outputs are activation
// tensors named in the graph; parameters and constants live in the node.
type Node struct {
	// Name is unique in the graph. For a node with parameters it is the
	// state_dict prefix of its parameters ("layer1.0.conv1"), so that
	// checkpoints and exports keep PyTorch's names.
	Name    string   `json:"name"`
	Op      Op       `json:"op"`
	Inputs  []string `json:"inputs"`
	Outputs []string `json:"outputs"`
	Attrs   Attrs    `json:"attrs"`
	// Const, for Add, Sub, Mul and Div with one activation input, is the
	// other operand, broadcast (numpy rules) against one image's shape,
	// e.g. [C 1 1] per channel or [] for a scalar. Saved as the buffer
	// Name+".const".
	Const *tensor.Tensor `json:"-"`
	// Layer holds the node's parameters and runs it, for the ops that nn
	// implements (Conv with group 1, square kernel, symmetric padding and
	// dilation 1 is an *nn.Conv2d; BatchNorm an *nn.BatchNorm2d; Gemm an
	// *nn.Linear; ...). Nil for parameter-free ops the graph runs itself.
	Layer nn.Layer `json:"-"`
}

// Graph is a network lowered to a DAG of nodes over named tensors. Shapes
// are per image: the batch dimension is left out everywhere (a dynamic
// batch is the only dynamic dimension a graph has).
type Graph struct {
	// Input names the network's input tensor; InputShape is one image's
	// shape (C, H, W).
	Input      string `json:"input"`
	InputShape []int  `json:"input_shape"`
	// Output names the network's output tensor (the logits).
	Output string `json:"output"`
	// Nodes are in topological order: a node's inputs are the graph input
	// or outputs of earlier nodes.
	Nodes []*Node `json:"nodes"`
	// Shapes holds every tensor's per-image shape, filled by Infer.
	Shapes map[string][]int `json:"-"`
}

// Error is a graph error that names the node.
type Error struct {
	Node string // node name
	Op   Op
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("graph: node %s (%s): %s", e.Node, e.Op, e.Msg)
}

// Node returns the node with the given name, or nil.
func (g *Graph) Node(name string) *Node {
	for _, n := range g.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Consumers maps each tensor name to the nodes that read it, in order.
func (g *Graph) Consumers() map[string][]*Node {
	c := make(map[string][]*Node)
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			c[in] = append(c[in], n)
		}
	}
	return c
}

// Producer maps each tensor name to the node that writes it (the graph
// input has none).
func (g *Graph) Producer() map[string]*Node {
	p := make(map[string]*Node)
	for _, n := range g.Nodes {
		for _, out := range n.Outputs {
			p[out] = n
		}
	}
	return p
}
