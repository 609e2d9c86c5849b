// Package train runs the training loop: mini-batch SGD over a network,
// evaluation (top-1/top-5), per-epoch checkpoints written atomically,
// resumption, and divergence checks that stop cleanly naming the layer.
package train

import (
	"errors"
	"fmt"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/tensor"
)

// Batch is one mini-batch: images [B][C][H][W] and their labels.
type Batch struct {
	X *tensor.Tensor
	Y []int
}

// Stepper performs training steps on one network with one optimiser,
// reusing its buffers between steps.
type Stepper struct {
	Net nn.Layer
	Opt *optim.SGD
	// Distill, when set, trains against a teacher's soft targets as well
	// as the labels (knowledge distillation).
	Distill *Distill
	ctx     *nn.Ctx
	grad    *tensor.Tensor
}

// Distill is knowledge distillation from a teacher network (Hinton et al.
// 2015): the loss is nn.DistillCrossEntropy of the student's logits
// against the teacher's on the same (augmented) images.
type Distill struct {
	// Teacher returns the teacher's logits for a batch, in evaluation
	// mode; they need only stay valid until its next call.
	Teacher func(x *tensor.Tensor) (*tensor.Tensor, error)
	Temp    float64 // temperature T > 0, e.g. 4
	Alpha   float64 // weight of the soft term in [0, 1], e.g. 0.9
}

// NewStepper returns a stepper; ctx carries the dropout random source and
// the number of threads (nn.Ctx.Threads), which Fit's evaluations use too.
func NewStepper(net nn.Layer, opt *optim.SGD, ctx *nn.Ctx) *Stepper {
	ctx.Train = true
	return &Stepper{Net: net, Opt: opt, ctx: ctx}
}

// Step runs forward, loss, backward and one optimiser update on b, and
// returns the loss and the number of correct top-1 predictions. On NaN/Inf
// it returns a *nn.NonFiniteError naming the first layer (or parameter)
// where the values went bad, and leaves the weights untouched.
func (s *Stepper) Step(b Batch) (loss float64, correct int, err error) {
	if b.X == nil || b.X.Len() == 0 || len(b.Y) == 0 {
		return 0, 0, errors.New("train: empty batch")
	}
	nn.ZeroGrad(s.Net)
	s.ctx.Train = true
	logits, err := s.Net.Forward(s.ctx, b.X)
	if err != nil {
		return 0, 0, err
	}
	if s.Distill != nil {
		var t *tensor.Tensor
		if t, err = s.Distill.Teacher(b.X); err != nil {
			return 0, 0, fmt.Errorf("teacher: %w", err)
		}
		loss, s.grad, err = nn.DistillCrossEntropy(logits, t, b.Y, s.Distill.Temp, s.Distill.Alpha, s.grad)
	} else {
		loss, s.grad, err = nn.SoftmaxCrossEntropy(logits, b.Y, s.grad)
	}
	if err != nil {
		var nf *nn.NonFiniteError
		if errors.As(err, &nf) {
			return loss, 0, s.locate(b)
		}
		return 0, 0, err
	}
	correct = nn.TopK(logits, b.Y, 1)
	if _, err := s.Net.Backward(s.ctx, s.grad); err != nil {
		return 0, 0, err
	}
	if err := s.Opt.Step(); err != nil {
		return loss, correct, err
	}
	return loss, correct, nil
}

// locate re-runs the forward pass checking every layer's output, to name
// the layer where NaN/Inf first appears. Running statistics may move once
// more; the caller stops training and keeps the last checkpoint.
func (s *Stepper) locate(b Batch) error {
	s.ctx.CheckFinite = true
	defer func() { s.ctx.CheckFinite = false }()
	if _, err := s.Net.Forward(s.ctx, b.X); err != nil {
		return err
	}
	return &nn.NonFiniteError{Where: "the loss (inputs or labels)", What: "loss"}
}

// EvalResult is a model's accuracy on a data set.
type EvalResult struct {
	Top1, Top5 float64 // percent
	Loss       float64 // mean cross-entropy
	N          int     // images evaluated
}

func (r EvalResult) String() string {
	return fmt.Sprintf("top-1 %.2f%%  top-5 %.2f%%  loss %.4f  (%d images)", r.Top1, r.Top5, r.Loss, r.N)
}

// Evaluate runs net in evaluation mode over batches and returns top-1/top-5
// accuracy and the mean loss.
// Non-finite logits are traced back to the first layer whose output went
// NaN/Inf, which the error names.
func Evaluate(net nn.Layer, batches func(yield func(Batch) bool) error) (EvalResult, error) {
	return EvaluateCtx(nn.NewCtx(false), net, batches)
}

// EvaluateCtx is Evaluate with the context given, e.g. for its thread
// count (nn.Ctx.Threads); it sets ctx to evaluation mode.
func EvaluateCtx(ctx *nn.Ctx, net nn.Layer, batches func(yield func(Batch) bool) error) (EvalResult, error) {
	ctx.Train = false
	return EvaluateFunc(func(x *tensor.Tensor) (*tensor.Tensor, error) {
		y, err := net.Forward(ctx, x)
		if err != nil || !nn.HasNonFinite(y.Data) {
			return y, err
		}
		ctx.CheckFinite = true
		defer func() { ctx.CheckFinite = false }()
		if _, err := net.Forward(ctx, x); err != nil {
			return nil, err
		}
		return nil, &nn.NonFiniteError{Where: "the network's output", What: "evaluation"}
	}, batches)
}

// EvaluateFunc is Evaluate with the evaluation-mode forward pass given as
// a function, e.g. a compiled network's (package compile). The logits it
// returns need only stay valid until its next call.
func EvaluateFunc(forward func(x *tensor.Tensor) (*tensor.Tensor, error), batches func(yield func(Batch) bool) error) (EvalResult, error) {
	var r EvalResult
	var lossSum float64
	var c1, c5 int
	var ferr error
	err := batches(func(b Batch) bool {
		logits, err := forward(b.X)
		if err != nil {
			ferr = err
			return false
		}
		loss, _, err := nn.SoftmaxCrossEntropy(logits, b.Y, nil)
		if err != nil {
			ferr = err
			return false
		}
		lossSum += loss * float64(len(b.Y))
		c1 += nn.TopK(logits, b.Y, 1)
		c5 += nn.TopK(logits, b.Y, min(5, logits.Shape[1]))
		r.N += len(b.Y)
		return true
	})
	if ferr != nil {
		return r, ferr
	}
	if err != nil {
		return r, err
	}
	if r.N == 0 {
		return r, errors.New("evaluate: no images")
	}
	r.Top1 = 100 * float64(c1) / float64(r.N)
	r.Top5 = 100 * float64(c5) / float64(r.N)
	r.Loss = lossSum / float64(r.N)
	return r, nil
}
