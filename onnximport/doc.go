// Package onnximport reads an ONNX model (opsets 11 to 18, as
// torch.onnx.export writes them) into a lowered graph.Graph.
//
// The reader decodes the protobuf itself around the weights, so that each
// initializer's raw_data is read in place and converted to float32 once;
// everything else goes through the generated onnxpb messages. Before any
// work it checks the file: every operator must be one it supports, the only
// dynamic dimension allowed is the batch, and every tensor's dimensions
// must agree with the bytes the file holds for it (so that nothing is
// allocated from an untrusted size). The shape arithmetic that exporters
// emit (Shape, Gather, Unsqueeze, Concat, Constant, Cast, ...) is evaluated
// at import time, so Reshape targets become static per-image shapes.
//
// Nodes with parameters are named after their weight initializer less
// ".weight" ("layer1.0.conv1.weight" gives the node "layer1.0.conv1"), so
// that parameter names stay PyTorch's state_dict names; other nodes are
// named from the ONNX node name's module path.
package onnximport
