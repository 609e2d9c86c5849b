package cli

import (
	"fmt"
	"path/filepath"

	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/optim"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/swa"
	"github.com/sgcnn/sgcnn/train"
)

// averagingChoice names the choice --average makes in a report.
const averagingChoice = "weight averaging of the global cycles' ends"

// cyclePath names the model kept at the end of global cycle k (1-based).
func cyclePath(dir string, k int) string {
	return filepath.Join(dir, fmt.Sprintf("cycle-%02d.safetensors", k))
}

// keepCycles wraps a pruning run's save function: with --average, the
// model at the end of every global cycle but the last (the run's final
// model) is also kept in dir, for the average at the end.
func keepCycles(save func(*pipeline.State, *optim.SGD) error, dir string, m *models.Model, info modelfile.Info) func(*pipeline.State, *optim.SGD) error {
	return func(st *pipeline.State, opt *optim.SGD) error {
		if err := save(st, opt); err != nil {
			return err
		}
		cfg := &st.Config
		if !cfg.Average || st.Phase != pipeline.PhaseGlobal || !cfg.CycleEnd(st.Epoch) {
			return nil
		}
		info.Pruning = nil
		return modelfile.Save(cyclePath(dir, st.Epoch/cfg.CycleLength()), m, false, info, nil)
	}
}

// averageCycles returns the Finish step of a pruning run with --average:
// the mean of the cycles' end models, its batch-norm statistics
// re-estimated on one epoch of the (augmented) training batches, is scored
// on eval (the validation split when valSplit, else the test set) beside
// the final model; on validation the better one is kept (the average on a
// tie), without a split the average always is (the test set chooses
// nothing). The choice goes into the report and the run is saved.
func averageCycles(g *globals, dir string, m *models.Model, trainSrc, eval train.Source, valSplit bool,
	save func(*pipeline.State, *optim.SGD) error) func(*pipeline.State) error {
	return func(st *pipeline.State) error {
		cfg := &st.Config
		rep := &st.Report
		if !cfg.Average || rep.Final == nil || hasChoice(rep, averagingChoice) {
			return nil
		}
		var avg swa.Averager
		var target *models.Model
		for k := 1; k < cfg.Cycles; k++ {
			f, err := modelfile.Load(cyclePath(dir, k), m.Arch)
			if err != nil {
				return fmt.Errorf("averaging the global cycles: %w", err)
			}
			if err := avg.Add(f.Model); err != nil {
				return fmt.Errorf("averaging the global cycles: %s: %w", cyclePath(dir, k), err)
			}
			if target == nil {
				target = f.Model
			}
		}
		if err := avg.Add(m); err != nil {
			return fmt.Errorf("averaging the global cycles: the final model: %w", err)
		}
		if err := avg.Mean(target); err != nil {
			return err
		}
		if len(swa.BatchNorms(target.Net)) > 0 {
			if _, err := swa.UpdateBN(target.Net, func(yield func(train.Batch) bool) error { return trainSrc(0, yield) }); err != nil {
				return fmt.Errorf("re-estimating the average's batch-norm statistics: %w", err)
			}
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
		c := report.Choice{What: averagingChoice, Chosen: name}
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
		fmt.Fprintf(g.stderr, "%s: average %.2f%%, last model %.2f%% (%s); kept %s\n", averagingChoice, mean, last, rep.Eval, c.Chosen)
		return save(st, nil)
	}
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
