package sgcnn

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/sgcnn/sgcnn/budget"
	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/selfgroup"
	"github.com/sgcnn/sgcnn/tensor"
	"github.com/sgcnn/sgcnn/train"
)

// SensitivityConfig configures Sensitivity: the rates tried, the pruning
// of each trial and the held-out images the damage is measured on.
type SensitivityConfig struct {
	// Rates are the rates tried, percent, increasing in (0, 100) (see
	// budget.RateGrid).
	Rates []float64
	// Layers names the layers measured (empty: every prunable layer).
	Layers []string
	// Groups, Rule and Seed are the self-grouping step of each trial.
	Groups int
	Rule   string
	Seed   uint64
	// Dataset and DataDir name the data (default: the model's).
	Dataset, DataDir string
	// ValSplit is the validation split the damage is measured on, held
	// out of the training set as Prune holds it out (at most a tenth of
	// the set when ValSplitCapped); Subset keeps its first images (0:
	// all); EvalBatch is the images per evaluation batch.
	ValSplit       int
	ValSplitCapped bool
	Subset         int
	EvalBatch      int
	// Log receives the progress lines (nil: none).
	Log io.Writer
}

// Check refuses settings that cannot work, before any work: each is a
// *ConfigError.
func (s *SensitivityConfig) Check() error {
	switch {
	case s.ValSplit < 1:
		return configErr("ValSplit", s.ValSplit, "sensitivity is measured on the validation split, which needs at least 1 image")
	case s.Subset < 0:
		return configErr("Subset", s.Subset, "want 0 (all validation images) or more")
	case s.EvalBatch < 1:
		return configErr("EvalBatch", s.EvalBatch, "want at least 1")
	case s.Groups < 1:
		return configErr("Groups", s.Groups, "want at least 1")
	}
	if err := checkSensRates(s.Rates); err != nil {
		return err
	}
	_, err := keepRule(s.Rule)
	return err
}

// keepRule is selfgroup.ParseKeepRule with a *ConfigError naming Rule.
func keepRule(s string) (selfgroup.KeepRule, error) {
	r, err := selfgroup.ParseKeepRule(s)
	if err != nil {
		return 0, configErr("Rule", fmt.Sprintf("%q", s), "want first-member or own-mask")
	}
	return r, nil
}

// Sensitivity measures m's sensitivity table (package budget): each layer
// pruned alone, one self-grouping step at each rate, scored by the
// compiled network on held-out training images, and put back.
func Sensitivity(m *Model, cfg SensitivityConfig) (*budget.SensitivityTable, error) {
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	rule, _ := keepRule(cfg.Rule)
	layers, err := PrunableLayers(m, cfg.Layers)
	if err != nil {
		return nil, err
	}
	name := DatasetOf(cfg.Dataset, m)
	trainSet, err := OpenSplit(name, cfg.DataDir, true, 0)
	if err != nil {
		return nil, err
	}
	if err := CheckFits(m, trainSet); err != nil {
		return nil, err
	}
	ds, err := HeldOut(trainSet, cfg.ValSplit, cfg.ValSplitCapped, cfg.Subset)
	if err != nil {
		return nil, err
	}
	norm := trainSet.Norm()
	if c := trainSet.C; len(m.Info.Mean) == c && len(m.Info.Std) == c {
		norm = data.Norm{Mean: m.Info.Mean, Std: m.Info.Std}
	}
	eval, err := evalFunc(m.Model, ds, norm, cfg.EvalBatch)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "sensitivity of %d layers of %s at rates %v on %d %s validation images\n", len(layers), m.Model.Arch, cfg.Rates, ds.N, name)
	t, err := budget.Sensitivity(layers, cfg.Rates, eval, budget.Pruning{Groups: cfg.Groups, Rule: rule, Seed: cfg.Seed}, log)
	if err != nil {
		return nil, err
	}
	t.Model, t.Images, t.CPU, t.Threads = m.Model.Arch, ds.N, budget.CPUModel(), parallel.Threads()
	t.Data = fmt.Sprintf("%s: %d images of the validation split (--val-split, seed %d)", name, ds.N, ValSeed)
	t.Date = time.Now().UTC().Format(time.RFC3339)
	return t, nil
}

// HeldOut returns the images sensitivity is measured on: the validation
// split of n images (at most a tenth of the set when capped), then the
// first subset of those (0: all).
func HeldOut(trainSet *data.Dataset, n int, capped bool, subset int) (*data.Dataset, error) {
	n, err := ValSplitOf(n, capped, trainSet.N)
	if err != nil {
		return nil, err
	}
	_, val, _, err := HoldOut(trainSet, n)
	if err != nil {
		return nil, err
	}
	if val == nil {
		return nil, configErr("ValSplit", n, "a training set of %d images leaves no validation split", trainSet.N)
	}
	return First(val, subset)
}

// evalFunc returns a budget.Eval that compiles m as it is and evaluates
// it on ds's images, read once into memory.
func evalFunc(m *models.Model, ds *data.Dataset, norm data.Norm, batch int) (budget.Eval, error) {
	src, err := EvalSource(ds, norm, batch)
	if err != nil {
		return nil, err
	}
	var batches []train.Batch
	if err := src(0, func(b train.Batch) bool {
		batches = append(batches, train.Batch{X: &tensor.Tensor{Shape: slices.Clone(b.X.Shape), Data: slices.Clone(b.X.Data)}, Y: slices.Clone(b.Y)})
		return true
	}); err != nil {
		return nil, err
	}
	all := func(yield func(train.Batch) bool) error {
		for _, b := range batches {
			if !yield(b) {
				break
			}
		}
		return nil
	}
	return func() (float64, float64, error) {
		c, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{Route: compile.Grouped})
		var res train.EvalResult
		if err == nil {
			res, err = train.EvaluateFunc(c.Forward, all)
		} else {
			res, err = train.Evaluate(m.Net, all) // a graph the compiler does not take
		}
		return res.Top1, res.Loss, err
	}, nil
}

// WriteSensitivity writes the table as sensitivity.json, .md and heat
// maps of the top-1 drop (sensitivity.png) and the loss rise
// (sensitivity_loss.png) in dir, and returns the paths.
func WriteSensitivity(dir string, t *budget.SensitivityTable) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	js, md := filepath.Join(dir, "sensitivity.json"), filepath.Join(dir, "sensitivity.md")
	png, lpng := filepath.Join(dir, "sensitivity.png"), filepath.Join(dir, "sensitivity_loss.png")
	if err := atomicfile.Write(js, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	}); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(md, t.WriteMarkdown); err != nil {
		return nil, err
	}
	rows := make([]string, len(t.Layers))
	vals, loss := make([][]float64, len(t.Layers)), make([][]float64, len(t.Layers))
	for i, r := range t.Layers {
		rows[i], vals[i], loss[i] = r.Name, t.Drops(i), t.Scores(i, budget.LossRise)
	}
	cols := make([]string, len(t.Rates))
	for j, r := range t.Rates {
		cols[j] = fmt.Sprintf("%g%%", r)
	}
	title := fmt.Sprintf("%s: top-1 drop in points, one layer pruned alone", t.Model)
	if err := report.PlotHeatMap(png, vals, rows, cols, title, "rate", "layer"); err != nil {
		return nil, err
	}
	title = fmt.Sprintf("%s: cross-entropy rise in nats, one layer pruned alone", t.Model)
	if err := report.PlotHeatMap(lpng, loss, rows, cols, title, "rate", "layer"); err != nil {
		return nil, err
	}
	return []string{js, md, png, lpng}, nil
}

// ReadSensitivity reads a sensitivity.json.
func ReadSensitivity(path string) (*budget.SensitivityTable, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := new(budget.SensitivityTable)
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, fmt.Errorf("%s: not a sensitivity table: %w", path, err)
	}
	for _, r := range t.Layers {
		if len(r.Top1) != len(t.Rates) {
			return nil, fmt.Errorf("%s: layer %s has %d accuracies for %d rates", path, r.Name, len(r.Top1), len(t.Rates))
		}
	}
	return t, nil
}

// checkSensRates reports rates that are not increasing percentages in
// (0, 100).
func checkSensRates(rates []float64) error {
	if len(rates) == 0 || len(rates) > 100 {
		return configErr("Rates", len(rates), "want 1 to 100 rates")
	}
	for i, r := range rates {
		if !(r > 0 && r < 100) || (i > 0 && r <= rates[i-1]) {
			return configErr("Rates", fmt.Sprint(rates), "want increasing rates in (0, 100)")
		}
	}
	return nil
}

// PrunableLayers returns m's layers named (all its prunable layers when
// names is empty); a name that is no prunable layer is a *ConfigError.
func PrunableLayers(m *Model, names []string) ([]nn.Prunable, error) {
	if len(names) == 0 {
		return m.Model.PrunableLayers(), nil
	}
	var ls []nn.Prunable
	for _, n := range names {
		l, ok := m.Model.Layer(n).(nn.Prunable)
		if !ok || l == nil {
			return nil, &ConfigError{Field: "Layers", Err: fmt.Errorf("%q is not a prunable layer of %s (see sgcnn info %s)", n, m.Model.Arch, m.Model.Arch)}
		}
		ls = append(ls, l)
	}
	return ls, nil
}
