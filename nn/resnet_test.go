package nn_test

// Whole-network check: two SGD steps of a small CIFAR ResNet against
// PyTorch (testdata/resnet.fix, from scripts/gen_nn_fixtures.py).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/nn/nntest"
)

// smallResNet mirrors Net in scripts/gen_nn_fixtures.py, with the same
// state_dict names: conv-bn-relu stem 3->8, basic block 8->8, basic block
// 8->16 stride 2 with the option-A shortcut, global average pool, linear
// 16->10.
func smallResNet(r *rand.Rand) nn.Layer {
	return nn.NewSequential("",
		nn.NewConv2d("conv1", 3, 8, 3, 1, 1, false, r),
		nn.NewBatchNorm2d("bn1", 8),
		nn.NewReLU("relu"),
		nn.NewSequential("layer1", block("layer1.0", 8, 8, 1, r)),
		nn.NewSequential("layer2", block("layer2.0", 8, 16, 2, r)),
		nn.NewGlobalAvgPool("avgpool"),
		nn.NewLinear("linear", 16, 10, true, r))
}

// sgd is PyTorch's SGD (dampening 0, no Nesterov) with weight decay on the
// parameters marked Decay: g += wd*p; buf = momentum*buf + g; p -= lr*buf.
type sgd struct {
	lr, momentum, wd float32
	buf              map[*nn.Param][]float32
}

func (o *sgd) step(params []*nn.Param) {
	if o.buf == nil {
		o.buf = make(map[*nn.Param][]float32)
	}
	for _, p := range params {
		b, ok := o.buf[p]
		if !ok {
			b = make([]float32, p.Value.Len())
			o.buf[p] = b
		}
		for i, g := range p.Grad.Data {
			if p.Decay {
				g += o.wd * p.Value.Data[i]
			}
			b[i] = o.momentum*b[i] + g
			p.Value.Data[i] -= o.lr * b[i]
		}
	}
}

func TestResNetTrainingSteps(t *testing.T) {
	forThreads(t, func(t *testing.T) {
		f := nntest.LoadFixture(t, fixturePath("resnet"))
		net := smallResNet(rng(1))
		params, buffers := nn.AllParams(net), nn.AllBuffers(net)

		// The Go network has exactly the fixture's state.
		state := map[string]*nn.Param{}
		for _, p := range append(append([]*nn.Param(nil), params...), buffers...) {
			if state[p.Name] != nil {
				t.Fatalf("duplicate name %s", p.Name)
			}
			state[p.Name] = p
			f.SetParam(t, p.Name, p.Value)
		}
		for _, name := range f.Names {
			// state names have a dot; x1, labels1, ... do not
			if !strings.Contains(name, ".") || strings.HasPrefix(name, "step") || strings.HasPrefix(name, "grad") {
				continue
			}
			if state[name] == nil {
				t.Errorf("fixture parameter %s has no Go counterpart", name)
			}
		}
		// Weight decay applies to conv and linear weights, as in the
		// fixture's parameter groups.
		for _, p := range params {
			want := strings.HasSuffix(p.Name, ".weight") && (strings.Contains(p.Name, "conv") || strings.Contains(p.Name, "linear"))
			if p.Decay != want {
				t.Errorf("%s: Decay %v, want %v", p.Name, p.Decay, want)
			}
		}

		opt := &sgd{lr: 0.1, momentum: 0.9, wd: 1e-4}
		for s := 1; s <= 2; s++ {
			nn.ZeroGrad(net)
			ctx := nn.NewCtx(true)
			x, labels := f.Get(t, fmt.Sprintf("x%d", s)), f.Ints(t, fmt.Sprintf("labels%d", s))
			logits, err := net.Forward(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			nntest.Compare(t, fmt.Sprintf("step %d: logits", s), logits, f.Get(t, fmt.Sprintf("logits%d", s)), fwdTol)
			loss, dlogits, err := nn.SoftmaxCrossEntropy(logits, labels, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := float64(f.Scalar(t, fmt.Sprintf("loss%d", s))); math.Abs(loss-want) > 1e-4*math.Abs(want) {
				t.Errorf("step %d: loss %.7g, want %.7g", s, loss, want)
			}
			if _, err := net.Backward(ctx, dlogits); err != nil {
				t.Fatal(err)
			}
			for _, p := range params {
				nntest.Compare(t, fmt.Sprintf("step %d: grad %s", s, p.Name), p.Grad, f.Get(t, fmt.Sprintf("grad%d.%s", s, p.Name)), gradTol)
			}
			opt.step(params)
			for _, p := range append(append([]*nn.Param(nil), params...), buffers...) {
				nntest.Compare(t, fmt.Sprintf("step %d: %s", s, p.Name), p.Value, f.Get(t, fmt.Sprintf("step%d.%s", s, p.Name)), fwdTol)
			}
		}
		logits, err := net.Forward(nn.NewCtx(false), f.Get(t, "x1"))
		if err != nil {
			t.Fatal(err)
		}
		nntest.Compare(t, "eval logits", logits, f.Get(t, "eval_logits"), fwdTol)
	})
}
