package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/budget"
)

// budgetOptions are sgcnn prune's --budget flags (sgcnn.BudgetRun). The
// run folder keeps sensitivity.json, costs.json (the cost table, reused
// on the same CPU model, threads and batch) and budget-plan.json (read
// back by --resume).
type budgetOptions struct {
	spec     string
	sensFile string
	batch    int
	repeats  int
	metric   string
	sens     sensSettings
}

const budgetHelp = `per-layer rates meeting a cost budget KIND=F, F a fraction of the dense
network's: latency=F (the compiled network's measured time of a batch of
--budget-batch images on --threads threads), flops=F or params=F (the paper's
counts), e.g. latency=0.4. The rates come from a sensitivity table (each layer
pruned alone at its rates: --sensitivity FILE, else measured into the run
folder at --rates-from..--rates-to) and a cost table (each layer's measured kernel time, FLOPs
and params at those rates, cached in the run folder per CPU model, threads and
batch), by an exact multiple-choice knapsack (dynamic programming) minimising
the layers' summed damage (--budget-metric); rate 0 leaves a layer dense, FC
layers stay at most --fc-cap. The schedule then scales: every layer reaches its
own target at the last step (max target / --step steps, rounded up).
See docs/BUDGET.md`

func (b *budgetOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&b.spec, "budget", "", budgetHelp)
	f.StringVar(&b.sensFile, "sensitivity", "", "with --budget: a sensitivity.json from sgcnn sensitivity (default: measured into the run folder)")
	f.IntVar(&b.batch, "budget-batch", 64, "with --budget: the batch size latency is measured at")
	f.IntVar(&b.repeats, "budget-repeats", 10, "with --budget: timed forwards per measurement (the best counts)")
	f.StringVar(&b.metric, "budget-metric", "loss", "with --budget: what the rates minimise, from the sensitivity table: loss (the rise of the held-out cross-entropy; top-1 on training images saturates near 100%) or top1 (the top-1 drop)")
	b.sens.addFlags(cmd)
}

// check reads --budget and --budget-metric before any work, names the
// run folder after the budget, and sets --rate to --step until the plan
// sets the schedule (so that a --step that does not divide --rate, which
// --budget ignores, passes the schedule's checks).
func (b *budgetOptions) check(o *pruneOptions) error {
	if b.spec == "" || o.resume {
		return nil
	}
	bd, err := budget.ParseBudget(b.spec)
	if err != nil {
		return usagef("--budget: %v", err)
	}
	if _, err := budget.ParseMetric(b.metric); err != nil {
		return usagef("--budget-metric: %v", err)
	}
	if o.out == "" {
		o.out = filepath.Join("runs", fmt.Sprintf("prune-%s-%s-%s%g", o.model, o.cfg.Scheme, bd.Kind, bd.Fraction))
	}
	if len(o.cfg.Rates) > 0 {
		return usagef("--budget chooses the rates: drop --rates")
	}
	if b.batch < 1 || b.repeats < 1 {
		return usagef("--budget-batch %d, --budget-repeats %d: want at least 1", b.batch, b.repeats)
	}
	if o.cfg.Step > 0 && o.cfg.Step < 100 {
		o.cfg.Rate = o.cfg.Step
	}
	return nil
}

// run returns the budget of a fresh --budget run for sgcnn.Prune to plan
// and follow, or only the timing settings without --budget (a resumed run
// reads its plan back).
func (b *budgetOptions) run(resume bool) (*sgcnn.BudgetRun, error) {
	r := &sgcnn.BudgetRun{Batch: b.batch, Repeats: b.repeats}
	if b.spec == "" || resume {
		return r, nil
	}
	bd, err := budget.ParseBudget(b.spec)
	if err != nil {
		return nil, usagef("--budget: %v", err)
	}
	metric, err := budget.ParseMetric(b.metric)
	if err != nil {
		return nil, usagef("--budget-metric: %v", err)
	}
	rates, err := b.sens.rates()
	if err != nil {
		return nil, err
	}
	r.Ask = &sgcnn.BudgetAsk{Budget: bd, Metric: metric, SensitivityFile: b.sensFile, Rates: rates, Subset: b.sens.subset, EvalBatch: b.sens.batch}
	return r, nil
}
