package onnximport

import (
	"fmt"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/tensor"
)

// buildAndLoad creates the graph's layers (graph.Build, seed 0) and loads
// the file's weights into them; weights is dropped afterwards, so the
// converted values and the built layers coexist only while Load copies.
func buildAndLoad(g *graph.Graph, weights map[string]*tensor.Tensor) error {
	if err := graph.Build(g, 0); err != nil {
		return fmt.Errorf("onnximport: %w", err)
	}
	// Constant operands are the node's own tensor already: Load would copy
	// them onto themselves.
	if err := g.Load(weights); err != nil {
		return fmt.Errorf("onnximport: %w", err)
	}
	return nil
}
