// Package onnx writes sgcnn models as ONNX files (opset 13, IR version 7)
// that ONNX Runtime and other ONNX tools run.
//
// Each nn layer becomes the ONNX operators of the same computation, in
// eval mode:
//
//	Conv2d         Conv (masked weights written as zeros), or per filter
//	               group Gather + Conv, then Concat and a Gather that puts
//	               the output channels back in order (see ConvMode)
//	BatchNorm2d    BatchNormalization, or folded into the conv before it
//	               (Options.FoldBN)
//	ReLU           Relu
//	MaxPool2d      MaxPool
//	AvgPool2d      AveragePool (count_include_pad=1, as nn divides by K*K)
//	GlobalAvgPool  GlobalAveragePool + Flatten
//	Linear         Flatten (for inputs of rank above 2) + Gemm (transB=1)
//	Residual       Add of the body and the shortcut
//	DenseConcat    Concat of the input and the body on the channel axis
//	ShortcutA      Slice (step = stride on H and W) + Pad of the channels
//	Dropout        nothing (eval mode)
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
// Layers ONNX export does not know are refused with an *UnsupportedError
// naming the layer; ExportFile writes all or nothing.
package onnx
