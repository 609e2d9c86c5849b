package train

import (
	"fmt"
	"io"
	"time"

	"github.com/sgcnn/sgcnn/internal/progress"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
)

// Source streams the mini-batches of one epoch to yield, stopping early
// when yield returns false. The order may depend on epoch (shuffling).
type Source func(epoch int, yield func(Batch) bool) error

// EpochStats records one finished epoch.
type EpochStats struct {
	Epoch     int     `json:"epoch"` // 1-based
	LR        float64 `json:"lr"`
	TrainLoss float64 `json:"train_loss"`
	TrainTop1 float64 `json:"train_top1"`
	TestTop1  float64 `json:"test_top1"`
	TestTop5  float64 `json:"test_top5"`
	TestLoss  float64 `json:"test_loss"`
	// ValTop1, ValTop5 and ValLoss are on Plan.Val, images held out of
	// the training set (absent when the plan has none).
	ValTop1   float64 `json:"val_top1,omitempty"`
	ValTop5   float64 `json:"val_top5,omitempty"`
	ValLoss   float64 `json:"val_loss,omitempty"`
	Seconds   float64 `json:"seconds"`
	ImgPerSec float64 `json:"img_per_sec"`
}

// Plan describes a training run.
type Plan struct {
	Epochs     int            // total epochs
	StartEpoch int            // epochs already done (resume)
	Schedule   optim.Schedule // learning rate per epoch
	// PerIteration sets the rate before every batch from the fraction of
	// the run done, Schedule.LRAt(epoch + images done / TrainLen) (as
	// PyTorch's schedulers stepped once per iteration), instead of once per
	// epoch. It needs an optim.Continuous schedule, TrainLen > 0 and no
	// RunEpoch.
	PerIteration bool
	TrainLen     int    // images per epoch, for the progress bar
	Train        Source // training batches
	Test         Source // test batches (nil: no evaluation)
	// Val, when set, are validation batches (images held out of the
	// training set) evaluated after every epoch; a run that chooses
	// anything chooses on them and leaves Test nil until its end.
	Val        Source
	Log        io.Writer              // progress and per-epoch lines (nil: silent)
	Label      string                 // prefix of progress lines, e.g. "train"
	AfterEpoch func(EpochStats) error // e.g. write a checkpoint; an error stops the run
	// BeforeEpoch, if set, runs before each epoch (0-based), e.g. to seed
	// the dropout random source so that a resumed run repeats.
	BeforeEpoch func(epoch int)
	// RunEpoch, if set, trains each epoch elsewhere instead of stepping
	// through Train (package torchtrain runs it on PyTorch DDP); Fit still
	// evaluates, logs and calls AfterEpoch as usual.
	RunEpoch EpochFunc
}

// EpochFunc trains one epoch (0-based) at learning rate lr and returns
// the mean training loss, the training top-1 in percent and the number of
// images seen.
type EpochFunc func(epoch int, lr float64) (loss, top1 float64, images int, err error)

// Fit trains with s for the epochs of p and returns the stats of the epochs
// it ran. It stops at the first error (bad batch, divergence, a failed
// checkpoint) and returns the epochs finished before it.
func Fit(s *Stepper, p Plan) ([]EpochStats, error) {
	var hist []EpochStats
	cont, err := p.continuous()
	if err != nil {
		return nil, err
	}
	for e := p.StartEpoch; e < p.Epochs; e++ {
		if p.BeforeEpoch != nil {
			p.BeforeEpoch(e)
		}
		lr := p.Schedule.LR(e)
		s.Opt.LR = lr
		start := time.Now()
		if p.RunEpoch != nil {
			loss, top1, n, err := p.RunEpoch(e, lr)
			if err != nil {
				return hist, fmt.Errorf("epoch %d: %w", e+1, err)
			}
			st, err := p.finish(s, e, lr, loss, top1, n, time.Since(start).Seconds())
			if err != nil {
				return hist, err
			}
			hist = append(hist, st)
			continue
		}
		var bar *progress.Bar
		if p.Log != nil {
			bar = progress.New(p.Log, int64(p.TrainLen), fmt.Sprintf("%s epoch %d/%d", p.Label, e+1, p.Epochs), "img")
		}
		var lossSum float64
		var correct, n int
		var stepErr error
		err := p.Train(e, func(b Batch) bool {
			if cont != nil {
				s.Opt.LR = cont.LRAt(float64(e) + float64(n)/float64(p.TrainLen))
			}
			loss, c, err := s.Step(b)
			if err != nil {
				stepErr = fmt.Errorf("epoch %d, after %d images: %w", e+1, n, err)
				return false
			}
			lossSum += loss * float64(len(b.Y))
			correct += c
			n += len(b.Y)
			if bar != nil {
				bar.Add(len(b.Y), fmt.Sprintf("loss %.3f acc %.1f%%", lossSum/float64(n), 100*float64(correct)/float64(n)))
			}
			return true
		})
		if bar != nil {
			bar.Finish()
		}
		if stepErr != nil {
			return hist, stepErr
		}
		if err != nil {
			return hist, err
		}
		if n == 0 {
			return hist, fmt.Errorf("epoch %d: the training set gave no batches", e+1)
		}
		st, err := p.finish(s, e, lr, lossSum/float64(n), 100*float64(correct)/float64(n), n, time.Since(start).Seconds())
		if err != nil {
			return hist, err
		}
		hist = append(hist, st)
	}
	return hist, nil
}

// continuous returns the schedule to query before every batch (nil: the
// rate is set once per epoch) or why p.PerIteration cannot be honoured.
func (p *Plan) continuous() (optim.Continuous, error) {
	if !p.PerIteration {
		return nil, nil
	}
	c, ok := p.Schedule.(optim.Continuous)
	switch {
	case !ok:
		return nil, fmt.Errorf("train: schedule %v has no per-iteration form", p.Schedule)
	case p.RunEpoch != nil:
		return nil, fmt.Errorf("train: a per-iteration schedule needs sgcnn's own engine (epochs run elsewhere take one rate each)")
	case p.TrainLen <= 0:
		return nil, fmt.Errorf("train: a per-iteration schedule needs TrainLen > 0 (got %d)", p.TrainLen)
	}
	return c, nil
}

// finish evaluates, logs and checkpoints a trained epoch.
func (p *Plan) finish(s *Stepper, e int, lr, loss, top1 float64, n int, seconds float64) (EpochStats, error) {
	st := EpochStats{Epoch: e + 1, LR: lr, TrainLoss: loss, TrainTop1: top1, Seconds: seconds, ImgPerSec: float64(n) / seconds}
	var evals string
	if p.Val != nil {
		r, err := EvaluateCtx(&nn.Ctx{Threads: s.ctx.Threads}, s.Net, func(yield func(Batch) bool) error { return p.Val(0, yield) })
		if err != nil {
			return st, fmt.Errorf("epoch %d: validation: %w", e+1, err)
		}
		st.ValTop1, st.ValTop5, st.ValLoss = r.Top1, r.Top5, r.Loss
		evals += fmt.Sprintf("  val top-1 %.2f%% top-5 %.2f%%", r.Top1, r.Top5)
	}
	if p.Test != nil {
		r, err := EvaluateCtx(&nn.Ctx{Threads: s.ctx.Threads}, s.Net, func(yield func(Batch) bool) error { return p.Test(0, yield) })
		if err != nil {
			return st, fmt.Errorf("epoch %d: evaluation: %w", e+1, err)
		}
		st.TestTop1, st.TestTop5, st.TestLoss = r.Top1, r.Top5, r.Loss
		evals += fmt.Sprintf("  test top-1 %.2f%% top-5 %.2f%%", r.Top1, r.Top5)
	}
	if p.Log != nil {
		fmt.Fprintf(p.Log, "%s epoch %d/%d  lr %.4g  train loss %.4f acc %.2f%%%s  %.0f img/s\n",
			p.Label, st.Epoch, p.Epochs, lr, st.TrainLoss, st.TrainTop1, evals, st.ImgPerSec)
	}
	if p.AfterEpoch != nil {
		if err := p.AfterEpoch(st); err != nil {
			return st, err
		}
	}
	return st, nil
}
