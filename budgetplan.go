package sgcnn

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sgcnn/sgcnn/budget"
	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/pipeline"
)

// BudgetAsk is what PlanBudget plans for: a cost budget, what the rates
// minimise, and where the sensitivity and cost tables come from.
type BudgetAsk struct {
	// Budget is the cost asked for, a fraction of the dense network's
	// (budget.ParseBudget), and Metric what the rates minimise.
	Budget budget.Budget
	Metric budget.Metric
	// SensitivityFile is a sensitivity table to use; "" reads the run
	// folder's sensitivity.json, else measures it there (Sensitivity).
	SensitivityFile string
	// Rates, Subset and EvalBatch measure it (see SensitivityConfig);
	// the rest of the measurement is the run's (groups, rule, seed,
	// layers, data and validation split).
	Rates     []float64
	Subset    int
	EvalBatch int
}

// PlanBudget chooses the per-layer rates of a run that meet b's budget
// ask: the run's (cfg's) layers, pruning and data; the budget's batch
// and repeats time the cost table, which is cached in cfg.Dir per CPU
// model, threads, batch, layers and rates, as is the sensitivity table.
// An unreachable budget is a *ConfigError naming the lowest reachable
// one.
func PlanBudget(m *Model, cfg *PruneConfig, b *BudgetRun) (*budget.Plan, error) {
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	ask, c := b.Ask, &cfg.Config
	batch, repeats := b.timing()
	switch {
	case c.Method != "self-grouping":
		return nil, configErr("Method", c.Method, "a budget works with self-grouping only")
	case len(c.Rates) > 0:
		return nil, &ConfigError{Field: "Rates", Err: errors.New("a budget chooses the rates: give none")}
	}
	sc := SensitivityConfig{Rates: ask.Rates, Layers: c.Layers, Groups: c.Groups, Rule: c.Rule, Seed: c.Seed,
		Dataset: cfg.Dataset, DataDir: cfg.DataDir, ValSplit: c.ValSplit, ValSplitCapped: cfg.ValSplitCapped,
		Subset: ask.Subset, EvalBatch: ask.EvalBatch, Log: log}
	if err := sc.Check(); err != nil {
		return nil, err
	}
	layers, err := PrunableLayers(m, c.Layers)
	if err != nil {
		return nil, err
	}
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, err
		}
	}
	sens, err := runSensitivity(m, cfg.Dir, ask.SensitivityFile, sc, log)
	if err != nil {
		return nil, err
	}
	if err := checkSensRates(sens.Rates); err != nil {
		return nil, &ConfigError{Field: "SensitivityFile", Err: err}
	}
	// The cost table is measured at the sensitivity table's rates (a
	// given table's own).
	costs, err := runCosts(m, cfg.Dir, layers, sens.Rates, c, batch, repeats, log)
	if err != nil {
		return nil, err
	}
	caps := map[string]float64{}
	for _, l := range layers {
		if _, fc := l.(*nn.Linear); fc {
			caps[l.Name()] = c.FCCap
		}
	}
	prob, err := costs.Problem(ask.Budget, sens, ask.Metric, caps)
	if err != nil {
		return nil, err
	}
	sol, err := budget.Solve(prob)
	var inf *budget.InfeasibleError
	if errors.As(err, &inf) {
		return nil, &ConfigError{Field: "Budget", Err: err}
	}
	if err != nil {
		return nil, err
	}
	plan := budget.NewPlan(ask.Budget, ask.Metric, prob, sol)
	if plan.MaxRate() == 0 {
		return nil, fmt.Errorf("budget %s: the cost table predicts the dense network within the budget (its latency fit is off by up to %.0f%%: measure on a quieter machine, or delete %s)",
			ask.Budget, 100*costs.FitError, filepath.Join(cfg.Dir, "costs.json"))
	}
	return plan, nil
}

// timing returns the latency measurements' batch and repeats.
func (b *BudgetRun) timing() (batch, repeats int) {
	batch, repeats = 64, 10
	if b != nil && b.Batch > 0 {
		batch = b.Batch
	}
	if b != nil && b.Repeats > 0 {
		repeats = b.Repeats
	}
	return batch, repeats
}

// runSensitivity returns the table of file, or dir's, or measures it and
// writes it into dir.
func runSensitivity(m *Model, dir, file string, sc SensitivityConfig, log io.Writer) (*budget.SensitivityTable, error) {
	path := file
	if path == "" {
		path = filepath.Join(dir, "sensitivity.json")
		if _, err := os.Stat(path); dir == "" || err != nil {
			t, err := Sensitivity(m, sc)
			if err != nil || dir == "" {
				return t, err
			}
			files, err := WriteSensitivity(dir, t)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(log, "wrote %s, %s, %s, %s\n", files[0], files[1], files[2], files[3])
			return t, nil
		}
	}
	t, err := ReadSensitivity(path)
	if err != nil {
		return nil, &ConfigError{Field: "SensitivityFile", Err: err}
	}
	fmt.Fprintf(log, "using the sensitivity table %s\n", path)
	return t, nil
}

// runCosts returns the cost table cached in dir when it was measured on
// this CPU model at these threads, batch, layers and rates, and otherwise
// measures (and caches) it, saying why.
func runCosts(m *Model, dir string, layers []nn.Prunable, rates []float64, cfg *pipeline.Config, batch, repeats int, log io.Writer) (*budget.CostTable, error) {
	path := filepath.Join(dir, "costs.json")
	names := make([]string, len(layers))
	for i, l := range layers {
		names[i] = l.Name()
	}
	arch := m.Model.Arch
	key := budget.Key{CPU: budget.CPUModel(), Threads: parallel.Threads(), Batch: batch, Model: arch, Layers: names,
		Rates: append([]float64{0}, rates...)}
	if dir != "" {
		t, why, err := budget.LoadCosts(path, key)
		if err != nil {
			return nil, err
		}
		if t != nil {
			fmt.Fprintf(log, "using the cost table %s (%s, %d threads, batch %d)\n", path, t.CPU, t.Threads, t.Batch)
			return t, nil
		}
		if why != "" {
			fmt.Fprintf(log, "ignoring the cost table %s: %s; measuring it afresh\n", path, why)
		}
	}
	rule, err := keepRule(cfg.Rule)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "measuring the cost table: %d layers at rates 0 and %v, batch %d, %d threads\n", len(layers), rates, batch, key.Threads)
	t, err := budget.MeasureCosts(m.Model.Net, m.Model.InputShape, layers, budget.CostOptions{Model: arch, Rates: rates, Batch: batch,
		Repeats: repeats, Threads: key.Threads, Pruning: budget.Pruning{Groups: cfg.Groups, Rule: rule, Seed: cfg.Seed}, Log: log})
	if err != nil || dir == "" {
		return t, err
	}
	if err := budget.SaveCosts(path, t); err != nil {
		return nil, err
	}
	return t, atomicfile.Write(filepath.Join(dir, "costs.md"), t.WriteMarkdown)
}
