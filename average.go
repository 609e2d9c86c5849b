package sgcnn

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/swa"
	"github.com/sgcnn/sgcnn/train"
)

// AveragingChoice names the choice Average makes in a report.
const AveragingChoice = "weight averaging of the global cycles' ends"

// CyclePath names the model a run with Average keeps in dir at the end of
// global cycle k (1-based).
func CyclePath(dir string, k int) string {
	return filepath.Join(dir, fmt.Sprintf("cycle-%02d.safetensors", k))
}

type saveFunc = func(*pipeline.State, *optim.SGD) error

// keepCycles wraps a pruning run's save function: with Average, the model
// at the end of every global cycle but the last (the run's final model)
// is also kept in dir, for the average at the end.
func keepCycles(save saveFunc, dir string, m *Model) saveFunc {
	return func(st *pipeline.State, opt *optim.SGD) error {
		if err := save(st, opt); err != nil {
			return err
		}
		cfg := &st.Config
		if !cfg.Average || st.Phase != pipeline.PhaseGlobal || !cfg.CycleEnd(st.Epoch) {
			return nil
		}
		info := m.Info
		info.Pruning = nil
		return models.SaveFile(CyclePath(dir, st.Epoch/cfg.CycleLength()), m.Model, info, nil)
	}
}

// averageCycles returns the Finish step of a pruning run with Average:
// the mean of the cycles' end models, its batch-norm statistics
// re-estimated on one epoch of the (augmented) training batches, is scored
// on eval (the validation split when valSplit, else the test set) beside
// the final model; on validation the better one is kept (the average on a
// tie), without a split the average always is (the test set chooses
// nothing). The choice goes into the report and the run is saved.
func averageCycles(dir string, m *models.Model, trainSrc, eval train.Source, valSplit bool, save saveFunc, log io.Writer) func(*pipeline.State) error {
	return func(st *pipeline.State) error {
		cfg := &st.Config
		rep := &st.Report
		if !cfg.Average || rep.Final == nil || hasChoice(rep, AveragingChoice) {
			return nil
		}
		target, err := averageOf(dir, m, cfg.Cycles, trainSrc)
		if err != nil {
			return err
		}
		score := func(x *models.Model) (float64, error) {
			r, err := train.Evaluate(x.Net, func(yield func(train.Batch) bool) error { return eval(0, yield) })
			return r.Top1, err
		}
		last, err := score(m)
		if err != nil {
			return err
		}
		mean, err := score(target)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("the average of the %d cycles' ends", cfg.Cycles)
		c := report.Choice{What: AveragingChoice, Chosen: name}
		if valSplit {
			c.On = report.EvalValidation
			c.Options = []report.Option{{Name: "average", Top1: mean}, {Name: "last model", Top1: last}}
			if mean < last {
				c.Chosen = "the last model"
			}
		}
		if c.Chosen == name {
			copyWeights(m, target)
			rep.Final.AccTuned = mean
		} else {
			rep.Final.AccTuned = last
		}
		rep.Choices = append(rep.Choices, c)
		fmt.Fprintf(log, "%s: average %.2f%%, last model %.2f%% (%s); kept %s\n", AveragingChoice, mean, last, rep.Eval, c.Chosen)
		return save(st, nil)
	}
}

// averageOf returns the mean of the models kept at the ends of the first
// cycles-1 cycles and m, its batch-norm statistics re-estimated on one
// epoch of trainSrc.
func averageOf(dir string, m *models.Model, cycles int, trainSrc train.Source) (*models.Model, error) {
	var avg swa.Averager
	var target *models.Model
	for k := 1; k < cycles; k++ {
		f, err := models.LoadFile(CyclePath(dir, k), m.Arch)
		if err != nil {
			return nil, fmt.Errorf("averaging the global cycles: %w", err)
		}
		if err := avg.Add(f.Model); err != nil {
			return nil, fmt.Errorf("averaging the global cycles: %s: %w", CyclePath(dir, k), err)
		}
		if target == nil {
			target = f.Model
		}
	}
	if err := avg.Add(m); err != nil {
		return nil, fmt.Errorf("averaging the global cycles: the final model: %w", err)
	}
	if err := avg.Mean(target); err != nil {
		return nil, err
	}
	if len(swa.BatchNorms(target.Net)) > 0 {
		if _, err := swa.UpdateBN(target.Net, func(yield func(train.Batch) bool) error { return trainSrc(0, yield) }); err != nil {
			return nil, fmt.Errorf("re-estimating the average's batch-norm statistics: %w", err)
		}
	}
	return target, nil
}

// hasChoice reports whether rep records a choice of what.
func hasChoice(rep *report.Run, what string) bool {
	for _, c := range rep.Choices {
		if c.What == what {
			return true
		}
	}
	return false
}

// copyWeights copies src's parameters and running statistics into dst, a
// model of the same architecture and masks.
func copyWeights(dst, src *models.Model) {
	for _, pair := range [][2][]*nn.Param{{nn.AllParams(dst.Net), nn.AllParams(src.Net)}, {nn.AllBuffers(dst.Net), nn.AllBuffers(src.Net)}} {
		for i, p := range pair[0] {
			copy(p.Value.Data, pair[1][i].Value.Data)
		}
	}
}
