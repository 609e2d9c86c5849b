package sgcnn

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/sgcnn/sgcnn/budget"
	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/prune"
)

// BudgetRun is a run that prunes each layer toward its own target rate,
// chosen to meet a cost budget (package budget; see PlanBudget): a fresh
// run plans from Ask unless given a Plan, and its schedule becomes the
// plan's (every layer reaching its own target at the last step, about
// max target / Step steps). The run
// folder keeps the plan (budget-plan.json, read back on Resume) and,
// after the run, the pruned network's measured latency, FLOPs and params
// against the dense one's (budget.json, budget.md).
type BudgetRun struct {
	// Plan holds the per-layer targets; nil: planned from Ask by a fresh
	// run, read back from the run folder by a resumed one.
	Plan *budget.Plan
	// Ask is the budget to plan for.
	Ask *BudgetAsk
	// Batch and Repeats are the latency measurements' batch size and
	// timed forwards, the best counting (0: 64 and 10).
	Batch, Repeats int
}

// BudgetPlanFile is the name of a budgeted run's plan in its folder.
const BudgetPlanFile = "budget-plan.json"

// schedule plans a fresh run's budget (unless given a plan), sets cfg's
// schedule to the plan's and writes the plan into the run folder. It does
// nothing without a budget.
func (b *BudgetRun) schedule(m *Model, cfg *PruneConfig, log io.Writer) error {
	if b == nil || (b.Plan == nil && b.Ask == nil) {
		return nil
	}
	if b.Plan == nil {
		plan, err := PlanBudget(m, cfg, b)
		if err != nil {
			return err
		}
		b.Plan = plan
	}
	if cfg.Dir != "" {
		if err := writePlan(cfg.Dir, b.Plan, nil); err != nil {
			return err
		}
	}
	c := &cfg.Config
	sched, err := b.Plan.Schedule(c.Step)
	if err != nil {
		return badConfig(err)
	}
	c.Rates, c.Rate = sched, sched[len(sched)-1]
	p := b.Plan
	fmt.Fprintf(log, "budget %s: predicted %.3f of dense (lowest reachable %.3f), predicted damage %.3f (%s); %d steps to a highest rate of %g%%\n",
		p.Budget, p.Predicted, p.Lowest, p.PredictedDrop, p.Metric, len(sched), c.Rate)
	return nil
}

// wrap returns the pruner of a budgeted run (its plan read back from dir
// on resume, where dir holds one): each layer's rate at a step is its
// target scaled by the step's progress (budget.Plan.Rate).
func (b *BudgetRun) wrap(dir string, resume bool, cfg pipeline.Config, inner prune.Pruner) (prune.Pruner, error) {
	var plan *budget.Plan
	if b != nil {
		plan = b.Plan
	}
	if plan == nil && resume && dir != "" {
		p, err := budget.LoadPlan(filepath.Join(dir, BudgetPlanFile))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		plan = p
	}
	if plan == nil {
		return inner, nil
	}
	sched, err := cfg.Schedule()
	if err != nil {
		return nil, badConfig(err)
	}
	return &budgetPruner{inner: inner, plan: plan, schedule: sched}, nil
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

// BudgetResult is budget.json: the plan and what the pruned network
// measured.
type BudgetResult struct {
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

// writePlan writes budget-plan.json and budget-plan.md into dir, and
// budget.json and budget.md when res is set.
func writePlan(dir string, p *budget.Plan, res *BudgetResult) error {
	if err := budget.SavePlan(filepath.Join(dir, BudgetPlanFile), p); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "budget-plan.md"), p.WriteMarkdown); err != nil {
		return err
	}
	if res == nil {
		return nil
	}
	if err := atomicfile.Write(filepath.Join(dir, "budget.json"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "budget.md"), func(w io.Writer) error {
		if err := p.WriteMarkdown(w); err != nil {
			return err
		}
		_, err := fmt.Fprintf(w, "\n%s\n", res.Summary())
		return err
	})
}

// Summary is the result's line in budget.md and a run's log.
func (r *BudgetResult) Summary() string {
	return fmt.Sprintf("Result: predicted %s %.3f of dense; measured latency %.3f (%.2f ms against %.2f ms dense, batch %d, %d threads, best of the repeats, %s, %s), FLOPs %.3f, params %.3f of dense.",
		r.Plan.Budget.Kind, r.Plan.Predicted, r.Latency, r.MeasuredNs/1e6, r.DenseNs/1e6, r.Batch, r.Threads, r.CPU, r.Date, r.FLOPs, r.Params)
}

// finishBudget measures a budgeted run's pruned network against the plan
// in force (its pruner's) and writes budget.json and budget.md into dir.
// It does nothing for a run without a plan.
func finishBudget(b *BudgetRun, p prune.Pruner, dir string, m *models.Model, log io.Writer) error {
	bp, ok := p.(*budgetPruner)
	if !ok || dir == "" {
		return nil
	}
	plan := bp.plan
	batch, repeats := b.timing()
	fmt.Fprintf(log, "measuring the pruned network's latency against the dense one (batch %d)\n", batch)
	pruned, dense, err := budget.TimePair(m.Net, m.InputShape, batch, repeats, parallel.Threads())
	if err != nil {
		return err
	}
	names := make([]string, len(plan.Layers))
	for i, t := range plan.Layers {
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
	res := &BudgetResult{Plan: plan, MeasuredNs: pruned, DenseNs: dense, Latency: pruned / dense,
		FLOPs: float64(now.FLOPs) / float64(base.FLOPs), Params: float64(now.Params) / float64(base.Params),
		Batch: batch, Threads: parallel.Threads(), CPU: budget.CPUModel(), Date: time.Now().UTC().Format(time.RFC3339)}
	if err := writePlan(dir, plan, res); err != nil {
		return err
	}
	fmt.Fprintln(log, res.Summary())
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
