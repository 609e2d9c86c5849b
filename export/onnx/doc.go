// Package onnx writes sgcnn models as ONNX files (opset 13, IR version 7)
// that ONNX Runtime and other ONNX tools run.
//
// Build lowers the model's network into a graph (graph.Of: an nn tree is
// lowered, a graph-backed network gives its own graph) and writes each
// node as the ONNX operator of the same name, in eval mode, with the
// graph's attributes and the node's parameters, masks applied, as
// initializers. The exceptions:
//
//	Conv               masked weights written as zeros, or per filter
//	                   group Gather + Conv, then Concat and a Gather that
//	                   puts the output channels back in order (see ConvMode)
//	BatchNormalization folded into the conv before it (Options.FoldBN)
//	                   when it is that conv's only reader
//	Gemm               Flatten first for inputs of rank above 1; transB=1
//	GlobalAveragePool  + Flatten when the graph keeps [C] (KeepDims false)
//	HardSwish          HardSigmoid (alpha 1/6, beta 0.5) + Mul: ONNX has
//	                   HardSwish only from opset 14
//	Clip, Split,       their bounds, sizes, starts/ends/axes/steps, pads
//	Slice, Pad,        and target shape as initializer inputs (opset 13);
//	Reshape            Reshape's batch dimension is copied (0)
//	Add, Sub, Mul, Div a Const operand becomes an initializer
//	                   <node>.const (first when Attrs.ConstFirst)
//	ShortcutA          Slice (step = stride on H and W) + Pad of the channels
//	Dropout            nothing (eval mode)
//
// Axes of the graph are per image; ONNX's count the batch, so they are one
// more.
//
// The graph's input is "input", [batch, C, H, W] with a symbolic batch
// dimension unless Options.Batch fixes it; its output is "logits",
// [batch, classes]. Values are named after the layers that make them, and
// initializers after the state_dict entries they hold ("layer1.0.conv1.weight").
//
// A masked conv can be written two ways, whose speed in a runtime depends on
// the layer: dense with zeros (as fast as the unpruned layer), or grouped
// (each group of filters with one kept-input pattern reads only its
// channels). ConvFastest builds both for each masked conv as a one-layer
// model, times them with a Timer (package export/onnx/ort gives one backed
// by ONNX Runtime), keeps the faster and logs the choice. Options.Groups
// lets a caller (for example a compiled plan) give the groups of a layer,
// and Options.Forms forces the form of single layers.
//
// Layers that cannot be lowered, and nodes ONNX export cannot write, are
// refused with an *UnsupportedError naming the layer; ExportFile writes all
// or nothing.
package onnx
