package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn/budget"
	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/prune"
)

// budgetOptions are sgcnn prune's --budget flags and the plan they lead
// to. The run folder keeps sensitivity.json, costs.json (the cost table,
// reused on the same CPU model, threads and batch) and budget-plan.json
// (read back by --resume).
type budgetOptions struct {
	spec     string
	sensFile string
	batch    int
	repeats  int
	metric   string
	sens     sensSettings
	plan     *budget.Plan
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
	if o.cfg.Step > 0 && o.cfg.Step < 100 {
		o.cfg.Rate = o.cfg.Step
	}
	return nil
}

// plan chooses the per-layer rates of a fresh --budget run and sets
// o.cfg's schedule to the plan's (the highest target in about
// max/--step steps). It does nothing without --budget.
func (b *budgetOptions) makePlan(g *globals, o *pruneOptions, m *models.Model, info modelfile.Info) error {
	if b.spec == "" {
		return nil
	}
	bd, err := budget.ParseBudget(b.spec)
	if err != nil {
		return usagef("--budget: %v", err)
	}
	metric, err := budget.ParseMetric(b.metric)
	if err != nil {
		return usagef("--budget-metric: %v", err)
	}
	switch {
	case o.cfg.Method != prune.MethodSelfGrouping:
		return usagef("--budget works with --method self-grouping, not %s", o.cfg.Method)
	case len(o.cfg.Rates) > 0:
		return usagef("--budget chooses the rates: drop --rates")
	case b.batch < 1 || b.repeats < 1:
		return usagef("--budget-batch %d, --budget-repeats %d: want at least 1", b.batch, b.repeats)
	}
	b.sens.groups, b.sens.rule, b.sens.seed = o.cfg.Groups, o.cfg.Rule, o.cfg.Seed
	b.sens.dataset, b.sens.dataDir = o.dataset, o.dataDir
	// The damage is measured on the run's own validation split.
	b.sens.valSplit, b.sens.explicit = o.cfg.ValSplit, o.valSet
	if err := b.sens.check(); err != nil {
		return err
	}
	if _, err := b.sens.rates(); err != nil {
		return err
	}
	layers, err := budgetLayers(m, o.cfg.Layers)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	sens, err := b.sensitivity(g, o.out, m, info, layers)
	if err != nil {
		return err
	}
	if err := checkSensRates(sens.Rates); err != nil {
		return err
	}
	// The cost table is measured at the sensitivity table's rates (a
	// --sensitivity table's own).
	costs, err := b.costs(g, o.out, m, layers, sens.Rates, o.cfg)
	if err != nil {
		return err
	}
	caps := map[string]float64{}
	for _, l := range layers {
		if _, fc := l.(*nn.Linear); fc {
			caps[l.Name()] = o.cfg.FCCap
		}
	}
	prob, err := costs.Problem(bd, sens, metric, caps)
	if err != nil {
		return err
	}
	sol, err := budget.Solve(prob)
	var inf *budget.InfeasibleError
	if errors.As(err, &inf) {
		return usagef("--budget: %v", err)
	}
	if err != nil {
		return err
	}
	b.plan = budget.NewPlan(bd, metric, prob, sol)
	if b.plan.MaxRate() == 0 {
		return fmt.Errorf("--budget %s: the cost table predicts the dense network within the budget (its latency fit is off by up to %.0f%%: measure on a quieter machine, or delete %s)",
			bd, 100*costs.FitError, filepath.Join(o.out, "costs.json"))
	}
	if err := writePlan(g, o.out, b.plan, nil); err != nil {
		return err
	}
	sched, err := b.plan.Schedule(o.cfg.Step)
	if err != nil {
		return err
	}
	o.cfg.Rates, o.cfg.Rate = sched, sched[len(sched)-1]
	fmt.Fprintf(g.stderr, "budget %s: predicted %.3f of dense (lowest reachable %.3f), predicted damage %.3f (%s); %d steps to a highest rate of %g%%\n",
		bd, b.plan.Predicted, b.plan.Lowest, b.plan.PredictedDrop, metric, len(sched), o.cfg.Rate)
	return nil
}

// checkSensRates reports a sensitivity table whose rates are not
// increasing percentages in (0, 100).
func checkSensRates(rates []float64) error {
	if len(rates) == 0 || len(rates) > 100 {
		return fmt.Errorf("--sensitivity: %d rates", len(rates))
	}
	for i, r := range rates {
		if !(r > 0 && r < 100) || (i > 0 && r <= rates[i-1]) {
			return fmt.Errorf("--sensitivity: rates %v: want increasing rates in (0, 100)", rates)
		}
	}
	return nil
}

// sensitivity returns the table of --sensitivity, or the run folder's, or
// measures it there.
func (b *budgetOptions) sensitivity(g *globals, out string, m *models.Model, info modelfile.Info, layers []nn.Prunable) (*budget.SensitivityTable, error) {
	path := b.sensFile
	if path == "" {
		path = filepath.Join(out, "sensitivity.json")
		if _, err := os.Stat(path); err != nil {
			t, err := measureSensitivity(g, m, info, layers, &b.sens)
			if err != nil {
				return nil, err
			}
			return t, writeSensitivity(g, out, t)
		}
	}
	t, err := readSensitivity(path)
	if err != nil {
		return nil, fmt.Errorf("--sensitivity: %w", err)
	}
	fmt.Fprintf(g.stderr, "using the sensitivity table %s\n", path)
	return t, nil
}

// costs returns the cost table cached in the run folder when it was
// measured on this CPU model at these threads, batch, layers and rates,
// and otherwise measures (and caches) it, saying why.
func (b *budgetOptions) costs(g *globals, out string, m *models.Model, layers []nn.Prunable, rates []float64, cfg pipeline.Config) (*budget.CostTable, error) {
	path := filepath.Join(out, "costs.json")
	names := make([]string, len(layers))
	for i, l := range layers {
		names[i] = l.Name()
	}
	key := budget.Key{CPU: budget.CPUModel(), Threads: parallel.Threads(), Batch: b.batch, Model: m.Arch, Layers: names,
		Rates: append([]float64{0}, rates...)}
	t, why, err := budget.LoadCosts(path, key)
	if err != nil {
		return nil, err
	}
	if t != nil {
		fmt.Fprintf(g.stderr, "using the cost table %s (%s, %d threads, batch %d)\n", path, t.CPU, t.Threads, t.Batch)
		return t, nil
	}
	if why != "" {
		fmt.Fprintf(g.stderr, "ignoring the cost table %s: %s; measuring it afresh\n", path, why)
	}
	rule, err := keepRule(cfg.Rule)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(g.stderr, "measuring the cost table: %d layers at rates 0 and %v, batch %d, %d threads\n", len(layers), rates, b.batch, key.Threads)
	t, err = budget.MeasureCosts(m.Net, m.InputShape, layers, budget.CostOptions{Model: m.Arch, Rates: rates, Batch: b.batch,
		Repeats: b.repeats, Threads: g.threads, Pruning: budget.Pruning{Groups: cfg.Groups, Rule: rule, Seed: cfg.Seed}, Log: g.stderr})
	if err != nil {
		return nil, err
	}
	if err := budget.SaveCosts(path, t); err != nil {
		return nil, err
	}
	md := filepath.Join(out, "costs.md")
	return t, atomicfile.Write(md, t.WriteMarkdown)
}

// budgetResult is budget.json: the plan and what the pruned network
// measured.
type budgetResult struct {
	Plan *budget.Plan `json:"plan"`
	// MeasuredNs and DenseNs are the compiled pruned and dense networks'
	// best times of a batch, measured after the run, alternately.
	MeasuredNs float64 `json:"measured_ns,omitempty"`
	DenseNs    float64 `json:"dense_ns,omitempty"`
	Latency    float64 `json:"latency"` // MeasuredNs / DenseNs
	FLOPs      float64 `json:"flops"`   // fraction of the dense network's
	Params     float64 `json:"params"`
	Batch      int     `json:"batch"`
	Threads    int     `json:"threads"`
	CPU        string  `json:"cpu"`
	Date       string  `json:"date"`
}

// writePlan writes budget-plan.json and budget-plan.md, and budget.json
// and budget.md when res is set.
func writePlan(g *globals, out string, p *budget.Plan, res *budgetResult) error {
	if err := budget.SavePlan(filepath.Join(out, "budget-plan.json"), p); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(out, "budget-plan.md"), p.WriteMarkdown); err != nil {
		return err
	}
	if res == nil {
		return nil
	}
	if err := atomicfile.Write(filepath.Join(out, "budget.json"), func(w io.Writer) error { return writeJSON(w, res) }); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(out, "budget.md"), func(w io.Writer) error {
		if err := p.WriteMarkdown(w); err != nil {
			return err
		}
		_, err := fmt.Fprintf(w, "\n%s\n", res.summary())
		return err
	})
}

func (r *budgetResult) summary() string {
	return fmt.Sprintf("Result: predicted %s %.3f of dense; measured latency %.3f (%.2f ms against %.2f ms dense, batch %d, %d threads, best of the repeats, %s, %s), FLOPs %.3f, params %.3f of dense.",
		r.Plan.Budget.Kind, r.Plan.Predicted, r.Latency, r.MeasuredNs/1e6, r.DenseNs/1e6, r.Batch, r.Threads, r.CPU, r.Date, r.FLOPs, r.Params)
}

// wrap returns the pruner of a --budget run (its plan read back from the
// run folder on --resume): each layer's rate at a step is its target
// scaled by the step's progress (budget.Plan.Rate).
func (b *budgetOptions) wrap(out string, resume bool, cfg pipeline.Config, inner prune.Pruner) (prune.Pruner, error) {
	if b.plan == nil && resume {
		p, err := budget.LoadPlan(filepath.Join(out, "budget-plan.json"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		b.plan = p
	}
	if b.plan == nil {
		return inner, nil
	}
	sched, err := cfg.Schedule()
	if err != nil {
		return nil, err
	}
	return &budgetPruner{inner: inner, plan: b.plan, schedule: sched}, nil
}

// budgetPruner prunes each layer toward its own target.
type budgetPruner struct {
	inner    prune.Pruner
	plan     *budget.Plan
	schedule []float64
}

// Prune prunes the layers with a positive rate at this step and records
// the others as they are.
func (p *budgetPruner) Prune(layers []nn.Prunable, _ []float64, step int) ([]prune.Layer, error) {
	if step < 0 || step >= len(p.schedule) {
		return nil, fmt.Errorf("budget: step %d outside the schedule of %d steps", step, len(p.schedule))
	}
	var sub []nn.Prunable
	var rates []float64
	var at []int
	out := make([]prune.Layer, len(layers))
	for i, l := range layers {
		r := p.plan.Rate(l.Name(), p.schedule[step])
		if r > 0 {
			sub, rates, at = append(sub, l), append(rates, r), append(at, i)
			continue
		}
		n, c := l.MaskShape()
		out[i] = prune.Layer{Name: l.Name(), Pruned: maskPruned(l.Mask()), N: n, C: c}
	}
	if len(sub) > 0 {
		recs, err := p.inner.Prune(sub, rates, step)
		if err != nil {
			return nil, err
		}
		for k, i := range at {
			out[i] = recs[k]
		}
	}
	return out, nil
}

func maskPruned(m []float32) float64 {
	z := 0
	for _, v := range m {
		if v == 0 {
			z++
		}
	}
	return float64(z) / float64(max(1, len(m)))
}

// finish measures the pruned network against the plan and writes
// budget.json and budget.md.
func (b *budgetOptions) finish(g *globals, out string, m *models.Model) error {
	if b.plan == nil {
		return nil
	}
	fmt.Fprintf(g.stderr, "measuring the pruned network's latency against the dense one (batch %d)\n", b.batch)
	pruned, dense, err := budget.TimePair(m.Net, m.InputShape, b.batch, b.repeats, g.threads)
	if err != nil {
		return err
	}
	names := make([]string, len(b.plan.Layers))
	for i, t := range b.plan.Layers {
		names[i] = t.Name
	}
	now, err := count.Count(m.Net, m.InputShape, names...)
	if err != nil {
		return err
	}
	base, err := denseCounts(m, names)
	if err != nil {
		return err
	}
	res := &budgetResult{Plan: b.plan, MeasuredNs: pruned, DenseNs: dense, Latency: pruned / dense,
		FLOPs: float64(now.FLOPs) / float64(base.FLOPs), Params: float64(now.Params) / float64(base.Params),
		Batch: b.batch, Threads: parallel.Threads(), CPU: budget.CPUModel(), Date: time.Now().UTC().Format(time.RFC3339)}
	if err := writePlan(g, out, b.plan, res); err != nil {
		return err
	}
	fmt.Fprintln(g.stderr, res.summary())
	return nil
}

// denseCounts counts m with every mask removed, the named layers by the
// masked rule, and puts the masks back.
func denseCounts(m *models.Model, names []string) (count.Totals, error) {
	ls := m.PrunableLayers()
	masks := make([][]float32, len(ls))
	for i, l := range ls {
		masks[i] = l.Mask()
		if err := l.SetMask(nil); err != nil {
			return count.Totals{}, err
		}
	}
	c, err := count.Count(m.Net, m.InputShape, names...)
	for i, l := range ls {
		if serr := l.SetMask(masks[i]); err == nil {
			err = serr
		}
	}
	if err != nil {
		return count.Totals{}, err
	}
	return c.Totals, nil
}
