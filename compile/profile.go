package compile

import (
	"fmt"
	"strings"
	"time"

	"github.com/sgcnn/sgcnn/tensor"
)

// This file times a compiled network step by step (issue 22: where the
// pruned network loses against its FLOPs ratio), on one goroutine.

// StepTime is the time of one step of a compiled network.
type StepTime struct {
	// Name is the conv or linear layer's node name, or the op's kind
	// ("pool", "add", ...).
	Name string
	// Kind is "conv", "linear" or the op's kind.
	Kind string
	// C, N, H, W and Stride are a conv's input channels, filters, input
	// size and stride (0 for other ops).
	C, N, H, W, Stride int
	// MACs and DenseMACs are a conv's multiply-adds per image as compiled
	// and unpruned (0 for other ops).
	MACs, DenseMACs int64
	// Padded says a conv reads its input in its padded layout (no pad pass),
	// Next that it writes the next conv's padded layout, Residual that it
	// adds the skip tensor.
	Padded, Next, Residual bool
	// Time is the step's total over the timed forwards, per image.
	Time time.Duration
}

// StepTimes runs x through n reps times on the calling goroutine alone
// (micro-batches of n's size, one after the other, as one worker runs
// them) and returns each step's time per image, in program order, after
// an untimed forward. It is a measuring tool: n's Forward must not run
// at the same time.
func (n *Net) StepTimes(x *tensor.Tensor, reps int) ([]StepTime, error) {
	if _, err := n.Forward(x); err != nil { // checks x, makes the workers, warms
		return nil, err
	}
	if reps < 1 {
		return nil, fmt.Errorf("compile: StepTimes: reps %d, want at least 1", reps)
	}
	b := x.Shape[0]
	inN := tensor.Numel(n.in...)
	w := n.workers[0]
	w.split = false
	times := make([]time.Duration, len(n.steps))
	run := func(steps []*step, off, m int) {
		for i, s := range steps {
			xs, ys := w.xs[:0], w.ys[:0]
			for _, v := range s.in {
				xs = append(xs, w.vals[v])
			}
			for k, id := range s.slots {
				ys = append(ys, w.buf(id, m*s.sizes[k]))
			}
			t0 := time.Now()
			s.op.run(w, xs, ys, m)
			times[off+i] += time.Since(t0)
			for k, v := range s.out {
				w.vals[v] = ys[k]
			}
			w.xs, w.ys = xs, ys
		}
	}
	head, tail := n.steps[:n.split], n.steps[n.split:]
	mid := make([]float32, b*n.midN)
	for range reps {
		for lo := 0; lo < b; lo += n.micro {
			hi := min(b, lo+n.micro)
			w.vals[n.input] = x.Data[lo*inN : hi*inN]
			run(head, 0, hi-lo)
			if len(tail) > 0 {
				copy(mid[lo*n.midN:hi*n.midN], w.vals[n.mid])
			}
		}
		if len(tail) > 0 {
			w.vals[n.mid] = mid
			run(tail, len(head), b)
		}
		if w.err != nil {
			return nil, w.err
		}
	}
	out := make([]StepTime, len(n.steps))
	for i, s := range n.steps {
		st := StepTime{Kind: opKind(s.op), Time: times[i] / time.Duration(reps*b)}
		st.Name = st.Kind
		if o, ok := s.op.(*convOp); ok {
			st.Name, st.MACs, st.DenseMACs = o.name, o.info.MACs, o.info.DenseMACs
			st.Padded, st.Next, st.Residual = o.padIn, o.next != nil, o.residual
			st.C, st.N, st.H, st.W, st.Stride = o.p.C, o.p.N, o.p.H, o.p.W, o.p.Stride
		}
		out[i] = st
	}
	return out, nil
}

// opKind names the kind of op o.
func opKind(o op) string {
	switch o.(type) {
	case *convOp:
		return "conv"
	case *linearOp:
		return "linear"
	case *poolOp:
		return "pool"
	case *gapOp:
		return "gap"
	case *shortcutAOp:
		return "shortcutA"
	case *addOp:
		return "add"
	case *bnOp:
		return "bn"
	case *reluOp:
		return "relu"
	case *concatOp:
		return "concat"
	case *gatherOp:
		return "gather"
	}
	s := fmt.Sprintf("%T", o)
	s = strings.TrimPrefix(s, "*compile.")
	return strings.TrimSuffix(s, "Op")
}
