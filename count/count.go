package count

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/sgcnn/sgcnn/graph"
	"github.com/sgcnn/sgcnn/nn"
)

// Totals are a network's parameter and FLOP counts.
type Totals struct {
	Params int64
	FLOPs  int64
}

// Row is the count of one conv or fully connected layer.
type Row struct {
	Name   string
	Kind   string // "conv", "convT" (transposed) or "linear"
	Weight []int  // weight shape, [N C/group KH KW], [C N/group KH KW] (convT) or [N C]
	Out    []int  // output shape of one item, [N Hout Wout] or [N]
	// Group is the conv's group count (1 for an ordinary conv or a linear
	// layer). A grouped or depthwise conv is never masked: self-grouping
	// leaves it dense, and it is counted dense, with its groups.
	Group     int
	Depthwise bool // a conv with one group per input channel
	Masked    bool // counted with the masked rule
	Totals
	Filters int     // N
	Live    int     // filters with at least one kept input (N when unmasked)
	Kept    int64   // kept connections, sum(m); N*C/group when unmasked
	Pruned  float64 // pruned fraction of the connections
}

// Table is a network's per-layer counts, in forward order, and the totals.
type Table struct {
	Rows []Row
	Totals
}

// Count counts net for one input of shape input (channels, height, width):
// it lowers net (graph.Of) and counts the graph. Layers named in asMasked
// are counted with the masked rule even when they carry no mask (an absent
// mask reads as all ones); layers that carry a mask always are. See the
// package comment for the rules.
func Count(net nn.Layer, input [3]int, asMasked ...string) (*Table, error) {
	g, err := graph.Of(net, input[:])
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	return Graph(g, asMasked...)
}

// Graph counts a lowered graph whose shapes are inferred (graph.Infer).
// asMasked names prunable nodes (node.Prunable) as in Count.
func Graph(g *graph.Graph, asMasked ...string) (*Table, error) {
	c := &counter{g: g, asMasked: map[string]bool{}, table: &Table{}}
	for _, n := range asMasked {
		c.asMasked[n] = true
	}
	for _, n := range g.Nodes {
		if n.Op == graph.BatchNorm {
			c.hasBN = true
		}
	}
	for _, n := range g.Nodes {
		if err := c.node(n); err != nil {
			return nil, err
		}
	}
	if len(c.asMasked) > 0 {
		unknown := slices.Sorted(maps.Keys(c.asMasked))
		return nil, fmt.Errorf("count: no prunable layer named %s", strings.Join(unknown, ", "))
	}
	for _, r := range c.table.Rows {
		c.table.Params += r.Params
		c.table.FLOPs += r.FLOPs
	}
	return c.table, nil
}

type counter struct {
	g        *graph.Graph
	asMasked map[string]bool // names not yet seen
	hasBN    bool
	table    *Table
}

// shape returns a tensor's inferred shape, or an error naming the node.
func (c *counter) shape(n *graph.Node, tensor string) ([]int, error) {
	s, ok := c.g.Shapes[tensor]
	if !ok {
		return nil, fmt.Errorf("count: node %s (%s): tensor %s has no inferred shape", n.Name, n.Op, tensor)
	}
	return s, nil
}

// node adds the row of n if n is a conv or a linear layer. Every other op
// (BatchNorm, activations, elementwise ops with or without a constant,
// pools, concatenation, reshaping, padding, shortcuts) is free by the
// paper's rules.
func (c *counter) node(n *graph.Node) error {
	switch n.Op {
	case graph.Conv, graph.ConvTranspose, graph.Gemm:
	default:
		return nil
	}
	if len(n.Inputs) != 1 || len(n.Outputs) != 1 {
		return fmt.Errorf("count: node %s (%s): %d inputs and %d outputs, want 1 and 1", n.Name, n.Op, len(n.Inputs), len(n.Outputs))
	}
	in, err := c.shape(n, n.Inputs[0])
	if err != nil {
		return err
	}
	out, err := c.shape(n, n.Outputs[0])
	if err != nil {
		return err
	}
	r := Row{Name: n.Name, Out: slices.Clone(out), Group: max(n.Attrs.Group, 1)}
	var ch, kk int // input channels per filter, kernel elements
	switch n.Op {
	case graph.Gemm:
		r.Kind, ch, kk = "linear", prod(in), 1
		r.Filters = n.Attrs.Out
		r.Weight = []int{r.Filters, ch}
	case graph.Conv:
		if len(in) != 3 || len(out) != 3 || in[0]%r.Group != 0 {
			return fmt.Errorf("count: node %s (Conv): input %v, output %v, group %d", n.Name, in, out, r.Group)
		}
		r.Kind, ch, kk = "conv", in[0]/r.Group, n.Attrs.Kernel[0]*n.Attrs.Kernel[1]
		r.Filters = out[0]
		r.Weight = []int{r.Filters, ch, n.Attrs.Kernel[0], n.Attrs.Kernel[1]}
		r.Depthwise = r.Group > 1 && r.Group == in[0]
	case graph.ConvTranspose:
		if len(in) != 3 || len(out) != 3 || out[0]%r.Group != 0 {
			return fmt.Errorf("count: node %s (ConvTranspose): input %v, output %v, group %d", n.Name, in, out, r.Group)
		}
		// Every input pixel meets N/group filters of KH*KW weights, so a
		// transposed conv costs Hin*Win*C*(N/group)*KH*KW; its "filters"
		// here are its N outputs, each reading C/group inputs.
		r.Kind, ch, kk = "convT", in[0]/r.Group, n.Attrs.Kernel[0]*n.Attrs.Kernel[1]
		r.Filters = out[0]
		r.Weight = []int{in[0], out[0] / r.Group, n.Attrs.Kernel[0], n.Attrs.Kernel[1]}
	}
	var mask []float32
	masked := c.asMasked[n.Name]
	if n.Prunable() {
		p := n.PrunableLayer()
		if pn, pc := p.MaskShape(); pn != r.Filters || pc != ch {
			return fmt.Errorf("count: node %s (%s): mask shape %dx%d, graph says %dx%d", n.Name, n.Op, pn, pc, r.Filters, ch)
		}
		mask = p.Mask()
		masked = masked || mask != nil
		delete(c.asMasked, n.Name)
	}
	r.Masked = masked
	c.table.Rows = append(c.table.Rows, c.rule(r, mask, ch, kk, n.Attrs.Bias, in, out))
	return nil
}

// rule fills r's totals by the package comment's rules; mask (n x ch) may
// be nil.
func (c *counter) rule(r Row, mask []float32, ch, kk int, bias bool, in, out []int) Row {
	n := r.Filters
	r.Live, r.Kept = n, int64(n*ch)
	if mask != nil {
		r.Kept, r.Live = 0, 0
		for i := range n {
			k := 0
			for _, v := range mask[i*ch : (i+1)*ch] {
				if v != 0 {
					k++
				}
			}
			r.Kept += int64(k)
			if k > 0 {
				r.Live++
			}
		}
	}
	r.Pruned = 1 - float64(r.Kept)/float64(n*ch)
	hw := int64(1)
	switch r.Kind {
	case "conv":
		hw = int64(out[1] * out[2])
	case "convT":
		hw = int64(in[1] * in[2])
	}
	live, b := int64(r.Live), int64(0)
	if bias {
		b = 1
	}
	switch {
	case r.Kind == "linear":
		r.Params = r.Kept + b*live
		r.FLOPs = r.Params
	case r.Masked:
		a := b
		if c.hasBN {
			a += 2
		}
		r.Params = int64(kk)*r.Kept + a*live
		r.FLOPs = hw*int64(kk)*r.Kept + live
	default:
		r.Params = int64(kk)*r.Kept + b*live
		r.FLOPs = hw * int64(kk) * r.Kept
	}
	return r
}

func prod(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}

// CompressionRatio is the paper's compression ratio,
// base.Params / pruned.Params (+Inf when pruned has none).
func CompressionRatio(base, pruned Totals) float64 {
	return ratio(base.Params, pruned.Params)
}

// FLOPsReduction is the paper's FLOPs reduction, base.FLOPs / pruned.FLOPs
// (+Inf when pruned has none). It is a count ratio, not a speedup.
func FLOPsReduction(base, pruned Totals) float64 {
	return ratio(base.FLOPs, pruned.FLOPs)
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return math.Inf(1)
	}
	return float64(a) / float64(b)
}
