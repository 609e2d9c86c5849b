package report

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/sgcnn/sgcnn/internal/units"
	"github.com/sgcnn/sgcnn/prune"
)

// Outcome is one run's result for the comparison table: the state after
// its last fine-tuning (or after its last step when it had none).
type Outcome struct {
	Model, Method string
	Rate          float64 // target conv rate, percent
	Seed          uint64
	Baseline      Step
	Final         Step
}

// OutcomeOf reads r's outcome. Seed and rate come from r.Config as
// pipeline.Config writes them; a run without steps is an error.
func OutcomeOf(r *Run) (Outcome, error) {
	if len(r.Steps) == 0 {
		return Outcome{}, fmt.Errorf("report: run %s has no pruning step", r.Label())
	}
	o := Outcome{Model: r.Model, Method: r.Method, Baseline: r.Baseline, Final: r.Steps[len(r.Steps)-1]}
	if r.Final != nil {
		o.Final = *r.Final
	}
	if o.Final.AccTuned < 0 {
		o.Final.AccTuned = o.Final.AccPruned
	}
	if o.Method == "" {
		o.Method = prune.MethodSelfGrouping
	}
	o.Rate = o.Final.Rate
	if v, ok := r.Config["seed"].(float64); ok {
		o.Seed = uint64(v)
	}
	return o, nil
}

// methodRank orders methods as prune.Names lists them (self-grouping
// first), unknown ones last.
func methodRank(m string) int {
	names := prune.Names()
	if i := slices.Index(names, m); i >= 0 {
		return i
	}
	return len(names)
}

// sortOutcomes orders by model, rate, method and seed.
func sortOutcomes(outs []Outcome) {
	slices.SortStableFunc(outs, func(a, b Outcome) int {
		return cmp.Or(cmp.Compare(a.Model, b.Model), cmp.Compare(a.Rate, b.Rate),
			cmp.Compare(methodRank(a.Method), methodRank(b.Method)), cmp.Compare(a.Method, b.Method), cmp.Compare(a.Seed, b.Seed))
	})
}

// Mean is the mean outcome of one model, method and rate over seeds.
type Mean struct {
	Model, Method  string
	Rate           float64
	Seeds          int
	Top1, Min, Max float64 // final test top-1: mean, lowest, highest
	Params, FLOPs  float64 // means
	Compression    float64 // baseline params / mean params
	FLOPsReduction float64 // baseline FLOPs / mean FLOPs
	Speedup        float64 // mean measured speedup, 0 when not measured
	Baseline       Step
	speedups       int
}

// Means groups outcomes by model, method and rate and averages over
// seeds, in the order of sortOutcomes.
func Means(outs []Outcome) []Mean {
	outs = slices.Clone(outs)
	sortOutcomes(outs)
	var ms []Mean
	for _, o := range outs {
		if n := len(ms); n == 0 || ms[n-1].Model != o.Model || ms[n-1].Method != o.Method || ms[n-1].Rate != o.Rate {
			ms = append(ms, Mean{Model: o.Model, Method: o.Method, Rate: o.Rate, Min: math.Inf(1), Max: math.Inf(-1), Baseline: o.Baseline})
		}
		m := &ms[len(ms)-1]
		m.Seeds++
		m.Top1 += o.Final.AccTuned
		m.Min, m.Max = min(m.Min, o.Final.AccTuned), max(m.Max, o.Final.AccTuned)
		m.Params += float64(o.Final.Params)
		m.FLOPs += float64(o.Final.FLOPs)
		if o.Final.Speedup > 0 {
			m.Speedup += o.Final.Speedup
			m.speedups++
		}
	}
	for i := range ms {
		m := &ms[i]
		k := float64(m.Seeds)
		m.Top1, m.Params, m.FLOPs = m.Top1/k, m.Params/k, m.FLOPs/k
		if m.speedups > 0 {
			m.Speedup /= float64(m.speedups)
		}
		m.Compression = float64(m.Baseline.Params) / m.Params
		m.FLOPsReduction = float64(m.Baseline.FLOPs) / m.FLOPs
	}
	return ms
}

// WriteComparison writes the comparison as Markdown: the baseline of each
// model, a table of the means over seeds per model, method and rate
// (with the range over seeds), and a table of every run. The speedup
// column appears when some run measured one.
func WriteComparison(w io.Writer, outs []Outcome) error {
	bw := bufio.NewWriter(w)
	speed := slices.ContainsFunc(outs, func(o Outcome) bool { return o.Final.Speedup > 0 })
	ms := Means(outs)
	fmt.Fprintln(bw, "| model | baseline top-1 | params | FLOPs |")
	fmt.Fprintln(bw, "| --- | ---: | ---: | ---: |")
	for i, m := range ms {
		if i == 0 || ms[i-1].Model != m.Model {
			fmt.Fprintf(bw, "| %s | %.2f | %s | %s |\n", m.Model, m.Baseline.AccTuned, units.Human(m.Baseline.Params), units.Human(m.Baseline.FLOPs))
		}
	}
	fmt.Fprintln(bw, "\nMean over seeds (final test top-1 after fine-tuning; range over seeds in brackets):")
	fmt.Fprintln(bw)
	head := "| model | conv rate | method | seeds | top-1 | Δ top-1 | params | compression | FLOPs | FLOPs reduction |"
	rule := "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	if speed {
		head, rule = head+" speedup |", rule+" ---: |"
	}
	fmt.Fprintln(bw, head)
	fmt.Fprintln(bw, rule)
	for _, m := range ms {
		top := fmt.Sprintf("%.2f", m.Top1)
		if m.Seeds > 1 {
			top += fmt.Sprintf(" [%.2f, %.2f]", m.Min, m.Max)
		}
		fmt.Fprintf(bw, "| %s | %g%% | %s | %d | %s | %+.2f | %s | %.2fx | %s | %.2fx |", m.Model, m.Rate, m.Method, m.Seeds, top,
			m.Top1-m.Baseline.AccTuned, units.Human(int64(math.Round(m.Params))), m.Compression,
			units.Human(int64(math.Round(m.FLOPs))), m.FLOPsReduction)
		if speed {
			fmt.Fprintf(bw, " %s |", speedCell(m.Speedup))
		}
		fmt.Fprintln(bw)
	}
	fmt.Fprintln(bw, "\nEvery run:")
	fmt.Fprintln(bw)
	head = "| model | conv rate | method | seed | top-1 after pruning | top-1 | params | FLOPs | FLOPs reduction |"
	rule = "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	if speed {
		head, rule = head+" speedup |", rule+" ---: |"
	}
	fmt.Fprintln(bw, head)
	fmt.Fprintln(bw, rule)
	outs = slices.Clone(outs)
	sortOutcomes(outs)
	for _, o := range outs {
		fmt.Fprintf(bw, "| %s | %g%% | %s | %d | %s | %.2f | %s | %s | %.2fx |", o.Model, o.Rate, o.Method, o.Seed,
			accCell(o.Final.AccPruned), o.Final.AccTuned, units.Human(o.Final.Params), units.Human(o.Final.FLOPs), o.Final.FLOPsReduction)
		if speed {
			fmt.Fprintf(bw, " %s |", speedCell(o.Final.Speedup))
		}
		fmt.Fprintln(bw)
	}
	return bw.Flush()
}

func accCell(a float64) string {
	if a < 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a)
}

func speedCell(s float64) string {
	if s <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2fx", s)
}

// PlotMethods plots the mean final top-1 of each method against its mean
// FLOPs, one line per method through its rates, from the dense baseline
// (PlotAccuracyVsFLOPs with one run per method), and writes it to
// path as a PNG. Outcomes should be of one model.
func PlotMethods(path string, outs []Outcome) error {
	ms := Means(outs)
	var runs []*Run
	byMethod := map[string]*Run{}
	for _, m := range ms {
		r, ok := byMethod[m.Method]
		if !ok {
			r = &Run{Method: m.Method, Baseline: m.Baseline}
			byMethod[m.Method] = r
			runs = append(runs, r)
		}
		r.Steps = append(r.Steps, Step{Index: len(r.Steps) + 1, Rate: m.Rate, AccPruned: -1, AccTuned: m.Top1,
			Counts: Counts{Params: int64(math.Round(m.Params)), FLOPs: int64(math.Round(m.FLOPs))}})
	}
	slices.SortStableFunc(runs, func(a, b *Run) int { return cmp.Compare(methodRank(a.Method), methodRank(b.Method)) })
	return PlotAccuracyVsFLOPs(path, runs...)
}

// ReadOutcomes reads the outcome of each json file in paths.
func ReadOutcomes(paths []string) ([]Outcome, error) {
	var outs []Outcome
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		r, err := ReadJSON(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		o, err := OutcomeOf(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		outs = append(outs, o)
	}
	return outs, nil
}
