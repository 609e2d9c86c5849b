package graph

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/nn/nntest"
	"github.com/sgcnn/sgcnn/tensor"
)

// node is shorthand for a one-output node named after its output.
func node(name string, op Op, a Attrs, ins ...string) *Node {
	return &Node{Name: name, Op: op, Inputs: ins, Outputs: []string{name}, Attrs: a}
}

// dagGraph is a small network whose tensors fan out to in-place
// consumers: the input feeds a ReLU (in place) and a conv; the ReLU's
// output feeds a Mul, an Add and a second ReLU; a grouped conv reads a
// channel shuffle; a Split has an output nobody reads.
func dagGraph() *Graph {
	k3 := Attrs{Out: 4, Kernel: [2]int{3, 3}, Pads: [4]int{1, 1, 1, 1}, Bias: true}
	return &Graph{Input: "x", InputShape: []int{4, 5, 5}, Output: "fc", Nodes: []*Node{
		node("r0", Relu, Attrs{}, "x"),
		node("c0", Conv, k3, "x"),
		node("bn0", BatchNorm, Attrs{}, "c0"),
		node("m", Mul, Attrs{}, "r0", "bn0"),
		node("a", Add, Attrs{}, "m", "r0"),
		node("r1", Relu, Attrs{}, "r0"),
		node("s", Sub, Attrs{}, "a", "r1"),
		node("sh1", Reshape, Attrs{Shape: []int{2, 2, 5, 5}}, "s"),
		node("sh2", Transpose, Attrs{Perm: []int{1, 0, 2, 3}}, "sh1"),
		node("sh3", Reshape, Attrs{Shape: []int{4, 5, 5}}, "sh2"),
		node("gc", Conv, Attrs{Out: 4, Kernel: [2]int{3, 3}, Pads: [4]int{1, 0, 1, 2}, Group: 2}, "sh3"),
		{Name: "sp", Op: Split, Attrs: Attrs{Sizes: []int{3, 1}}, Inputs: []string{"gc"}, Outputs: []string{"sp0", "sp1"}},
		node("hs", HardSwish, Attrs{}, "sp0"),
		node("cat", Concat, Attrs{}, "hs", "r1"),
		node("mp", MaxPool, Attrs{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, CeilMode: true}, "cat"),
		node("gap", GlobalAveragePool, Attrs{KeepDims: true}, "mp"),
		node("cs", Mul, Attrs{}, "gap"),
		node("fc", Gemm, Attrs{Out: 3, Bias: true}, "cs"),
	}}
}

func buildNet(t *testing.T, g *Graph) *Net {
	t.Helper()
	for _, n := range g.Nodes {
		if n.Name == "cs" {
			n.Const = tensor.New(7, 1, 1)
			for i := range n.Const.Data {
				n.Const.Data[i] = 0.5 + 0.25*float32(i)
			}
		}
	}
	if err := Build(g, 4); err != nil {
		t.Fatal(err)
	}
	net, err := NewNet("dag", g)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestNetDAGGradients checks a DAG with fan-out into in-place nodes
// against finite differences, in training and evaluation mode.
func TestNetDAGGradients(t *testing.T) {
	for _, train := range []bool{false, true} {
		net := buildNet(t, dagGraph())
		nntest.RandParams(net, rng(2), 0.5)
		x := awayFrom(batch(rng(3), 3, 4, 5, 5), 0.05, 0)
		x0 := x.Clone()
		ctx := nn.NewCtx(train)
		y, err := net.Forward(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		for i := range x.Data {
			if x.Data[i] != x0.Data[i] {
				t.Fatal("forward changed its input")
			}
		}
		dy := nntest.Randn(rng(4), 1, y.Shape...)
		tg := nntest.LayerTarget(net, func() *nn.Ctx { return nn.NewCtx(train) }, x, dy)
		bufs := nn.AllBuffers(net)
		saved := make([][]float32, len(bufs))
		for i, b := range bufs {
			saved[i] = append([]float32(nil), b.Value.Data...)
		}
		loss := tg.Loss
		tg.Loss = func() (float64, error) { // training passes move the running statistics: undo
			defer func() {
				for i, b := range bufs {
					copy(b.Value.Data, saved[i])
				}
			}()
			return loss()
		}
		rep := nntest.CheckGradients(t, "dag", tg, nntest.GradOptions{MaxPerInput: 60})
		t.Logf("train %v: %d checked, %d kinks, max |d| %.3g", train, rep.Checked, rep.Kinks, rep.MaxErr)
	}
}

// TestNetPlansCopies checks the in-place plan: copies where a tensor is
// shared, none on a plain residual chain.
func TestNetPlansCopies(t *testing.T) {
	net := buildNet(t, dagGraph())
	steps := map[string]*step{}
	for _, s := range net.steps {
		steps[s.node.Name] = s
	}
	if !steps["r0"].copyIn[0] {
		t.Error("r0 overwrites the graph input in place")
	}
	if !steps["r1"].copyIn[0] {
		t.Error("r1 overwrites r0's output, which m and a read")
	}
	if b := steps["a"].r.(*binary); b.inplace != 0 {
		t.Errorf("add writes into input %d, want 0 (m's output, read by nobody else)", b.inplace)
	}
	g := &Graph{Input: "x", InputShape: []int{2, 4, 4}, Output: "r2", Nodes: []*Node{
		node("c1", Conv, Attrs{Out: 2, Kernel: [2]int{3, 3}, Pads: [4]int{1, 1, 1, 1}}, "x"),
		node("bn1", BatchNorm, Attrs{}, "c1"),
		node("r1", Relu, Attrs{}, "bn1"),
		node("c2", Conv, Attrs{Out: 2, Kernel: [2]int{3, 3}, Pads: [4]int{1, 1, 1, 1}}, "r1"),
		node("bn2", BatchNorm, Attrs{}, "c2"),
		node("add", Add, Attrs{}, "bn2", "r1"),
		node("r2", Relu, Attrs{}, "add"),
	}}
	net = buildNet(t, g)
	for _, s := range net.steps {
		for i, c := range s.copyIn {
			if c && s.node.Name != "r2" {
				t.Errorf("%s copies input %d", s.node.Name, i)
			}
		}
	}
	if net.steps[6].copyIn[0] {
		t.Error("the final ReLU copies the residual sum")
	}
	if b := net.steps[5].r.(*binary); b.inplace != 0 {
		t.Errorf("residual add in place on input %d, want 0", b.inplace)
	}
}

// TestNetCheckFinite checks that a NaN is reported naming its node.
func TestNetCheckFinite(t *testing.T) {
	g := &Graph{Input: "x", InputShape: []int{3}, Output: "d", Nodes: []*Node{
		node("r", Relu, Attrs{}, "x"),
		node("d", Div, Attrs{ConstFirst: true}, "r"),
	}}
	g.Nodes[1].Const = tensor.New()
	g.Nodes[1].Const.Data = []float32{0}
	net, err := NewNet("n", g)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(1, 3) // 0/0 = NaN
	if _, err := net.Forward(&nn.Ctx{CheckFinite: true}, x); err == nil || !strings.Contains(err.Error(), "of d") {
		t.Errorf("got %v, want a NaN in the output of d", err)
	}
	if _, err := net.Forward(nn.NewCtx(false), tensor.New(1, 4)); err == nil {
		t.Error("an input of the wrong shape was accepted")
	}
}

// TestNodeForward runs the nodes one at a time, as the compiler's
// fallback does, and compares the result with Net's.
func TestNodeForward(t *testing.T) {
	g := dagGraph()
	net := buildNet(t, g)
	x := batch(rng(3), 2, 4, 5, 5)
	want, err := net.Forward(nn.NewCtx(false), x.Clone())
	if err != nil {
		t.Fatal(err)
	}
	want = want.Clone()
	acts := map[string]*tensor.Tensor{"x": x}
	for _, n := range g.Nodes {
		xs := make([]*tensor.Tensor, len(n.Inputs))
		for i, in := range n.Inputs {
			xs[i] = acts[in]
		}
		ys, err := n.Forward(nn.NewCtx(false), xs)
		if err != nil {
			t.Fatalf("%s: %v", n.Name, err)
		}
		for j, out := range n.Outputs {
			acts[out] = ys[j].Clone()
		}
	}
	nntest.Compare(t, "node by node", acts[g.Output], want, nntest.Tol{Rtol: 1e-6, Atol: 1e-6})
}

// TestBuildLoadStateDict round-trips a state dict and checks its errors.
func TestBuildLoadStateDict(t *testing.T) {
	net := buildNet(t, dagGraph())
	g := net.Graph()
	names, tensors := g.StateDict()
	want := []string{"c0.weight", "c0.bias", "bn0.weight", "bn0.bias", "bn0.running_mean", "bn0.running_var",
		"gc.weight", "cs.const", "fc.weight", "fc.bias"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("state names %v, want %v", names, want)
	}
	r := rand.New(rand.NewPCG(1, 1))
	state := map[string]*tensor.Tensor{"bn0.num_batches_tracked": tensor.New()}
	for _, n := range names {
		state[n] = nntest.Randn(r, 1, tensors[n].Shape...)
	}
	if err := g.Load(state); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if tensors[n].Data[0] != state[n].Data[0] {
			t.Errorf("%s not loaded", n)
		}
	}
	state["extra.weight"] = tensor.New(1)
	if err := g.Load(state); err == nil || !strings.Contains(err.Error(), "extra.weight") {
		t.Errorf("extra entry: %v", err)
	}
	delete(state, "extra.weight")
	state["gc.weight"] = tensor.New(1, 2, 3)
	if err := g.Load(state); err == nil || !strings.Contains(err.Error(), "gc.weight") {
		t.Errorf("wrong shape: %v", err)
	}
	delete(state, "gc.weight")
	if err := g.Load(state); err == nil || !strings.Contains(err.Error(), "missing gc.weight") {
		t.Errorf("missing entry: %v", err)
	}
	if got := len(nn.Prunables(net)); got != 2 {
		t.Errorf("%d prunable layers, want 2 (c0 and fc; the grouped conv stays dense)", got)
	}
}

// TestNetBatchNorm1d checks BatchNorm on [C] per image (BatchNorm1d after
// a Gemm), in training and evaluation mode, against finite differences.
func TestNetBatchNorm1d(t *testing.T) {
	for _, train := range []bool{false, true} {
		g := &Graph{Input: "x", InputShape: []int{2, 3, 3}, Output: "fc2", Nodes: []*Node{
			node("fl", Flatten, Attrs{}, "x"),
			node("fc1", Gemm, Attrs{Out: 5, Bias: true}, "fl"),
			node("bn", BatchNorm, Attrs{Eps: 1e-3, Momentum: 0.2}, "fc1"),
			node("lr", LeakyRelu, Attrs{Alpha: 0.2}, "bn"),
			node("fc2", Gemm, Attrs{Out: 2}, "lr"),
		}}
		net := buildNet(t, g)
		if bn := g.Nodes[2].Layer.(*nn.BatchNorm2d); bn.Eps != 1e-3 || bn.Momentum != 0.2 {
			t.Errorf("bn eps %g momentum %g, want the attributes' 1e-3 and 0.2", bn.Eps, bn.Momentum)
		}
		nntest.RandParams(net, rng(2), 0.5)
		x := batch(rng(3), 4, 2, 3, 3)
		dy := nntest.Randn(rng(4), 1, 4, 2)
		tg := nntest.LayerTarget(net, func() *nn.Ctx { return nn.NewCtx(train) }, x, dy)
		rep := nntest.CheckGradients(t, "bn1d", tg, nntest.GradOptions{})
		t.Logf("train %v: %d checked, %d kinks", train, rep.Checked, rep.Kinks)
	}
}
