package onnximport

import (
	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/tensor"
)

// buildAndLoad creates the graph's layers and loads the file's weights.
func buildAndLoad(g *graph.Graph, weights map[string]*tensor.Tensor) error {
	_ = weights
	return nil // TODO(onnx-import): graph.Build(g, 0) and g.Load(weights) once they exist
}
