// Package graph holds a network lowered to one DAG of operations over named
// tensors with static per-image shapes, together with its parameters and
// connection masks. The built-in models (package models) lower into it and
// ONNX files are imported into it; count, compile and export read only the
// graph, so a new operation is one edit here, not one per reader. Net runs
// a graph for training: forward, backward with fan-out gradients summed,
// masks held, batch norm in training and evaluation mode.
package graph
