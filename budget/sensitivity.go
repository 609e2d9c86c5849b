package budget

import (
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"time"

	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/selfgroup"
)

// Pruning configures the one-shot self-grouping steps the tables are
// measured with (the schedule's own settings: groups, keep rule, seed).
type Pruning struct {
	Groups int
	Rule   selfgroup.KeepRule
	Seed   uint64
}

// OneShot returns l's mask after one self-grouping step at rate (percent)
// from its current weights and mask, without installing it.
func OneShot(l nn.Prunable, rate float64, opt Pruning) ([]float32, error) {
	n, c := l.MaskShape()
	w := l.Weight().Value.Data
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%g", opt.Seed, l.Name(), rate)
	res, err := selfgroup.Step(w, n, c, len(w)/(n*c), l.Mask(), rate, nil,
		selfgroup.Options{Groups: opt.Groups, Rule: opt.Rule, Seed: h.Sum64()})
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", l.Name(), err)
	}
	return res.NewMask, nil
}

// saved is a layer's weights and mask, to put back after a trial
// (SetMask zeroes the weights it prunes).
type saved struct {
	l    nn.Prunable
	w    []float32
	mask []float32
}

func save(l nn.Prunable) saved {
	return saved{l: l, w: slices.Clone(l.Weight().Value.Data), mask: slices.Clone(l.Mask())}
}

func (s saved) restore() error {
	copy(s.l.Weight().Value.Data, s.w)
	return s.l.SetMask(s.mask)
}

// Eval measures the network as it is now: top-1 accuracy (percent) and
// mean cross-entropy on the held-out images.
type Eval func() (top1, loss float64, err error)

// SensitivityTable is the accuracy of the network with one layer pruned
// one-shot, for each layer and rate.
type SensitivityTable struct {
	Model   string    `json:"model"`
	Data    string    `json:"data"`   // what the accuracy was measured on
	Images  int       `json:"images"` // how many images
	Rates   []float64 `json:"rates"`  // percent, ascending
	Top1    float64   `json:"top1"`   // the unpruned network's
	Loss    float64   `json:"loss"`
	Layers  []SensRow `json:"layers"`
	Seconds float64   `json:"seconds"` // wall time of the measurement
	CPU     string    `json:"cpu"`
	Threads int       `json:"threads"`
	Date    string    `json:"date"`
}

// SensRow is one layer's row: accuracy, loss and pruned fraction at each
// rate of the table.
type SensRow struct {
	Name   string    `json:"name"`
	Top1   []float64 `json:"top1"`
	Loss   []float64 `json:"loss"`
	Pruned []float64 `json:"pruned"`
}

// Drops returns row i's accuracy drops in percentage points (unpruned
// accuracy minus pruned), one per rate.
func (t *SensitivityTable) Drops(i int) []float64 {
	d := make([]float64, len(t.Rates))
	for k, a := range t.Layers[i].Top1 {
		d[k] = t.Top1 - a
	}
	return d
}

// Metric is what the solver minimises, read from a sensitivity table.
type Metric string

// The metrics.
const (
	// Top1Drop is the top-1 accuracy drop in percentage points.
	Top1Drop Metric = "top1"
	// LossRise is the rise of the mean cross-entropy in nats. On the
	// training images of a model trained on them top-1 saturates near
	// 100% at moderate rates while the loss still ranks the layers.
	LossRise Metric = "loss"
)

// ParseMetric reads "top1" or "loss".
func ParseMetric(s string) (Metric, error) {
	switch m := Metric(s); m {
	case Top1Drop, LossRise:
		return m, nil
	}
	return "", fmt.Errorf("metric %q: want top1 or loss", s)
}

// Scores returns row i's damage at each rate by metric m: Drops, or the
// loss minus the unpruned loss.
func (t *SensitivityTable) Scores(i int, m Metric) []float64 {
	if m == Top1Drop {
		return t.Drops(i)
	}
	d := make([]float64, len(t.Rates))
	for k, l := range t.Layers[i].Loss {
		d[k] = l - t.Loss
	}
	return d
}

// Row returns the row of the named layer, or -1.
func (t *SensitivityTable) Row(name string) int {
	return slices.IndexFunc(t.Layers, func(r SensRow) bool { return r.Name == name })
}

// Sensitivity prunes each layer alone, one-shot at each rate (percent, in
// (0, 100), ascending), measures the network with eval, and puts the
// layer's weights and mask back before the next trial. log, when not nil,
// gets a line per layer.
func Sensitivity(layers []nn.Prunable, rates []float64, eval Eval, opt Pruning, log io.Writer) (*SensitivityTable, error) {
	if err := checkRates(rates); err != nil {
		return nil, err
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("budget: no layers to measure")
	}
	t0 := time.Now()
	top1, loss, err := eval()
	if err != nil {
		return nil, err
	}
	t := &SensitivityTable{Rates: slices.Clone(rates), Top1: top1, Loss: loss}
	for li, l := range layers {
		row, err := sensRow(l, rates, eval, opt)
		if err != nil {
			return nil, err
		}
		t.Layers = append(t.Layers, row)
		if log != nil {
			fmt.Fprintf(log, "sensitivity %d/%d %s: top-1 %s (%.0fs)\n", li+1, len(layers), l.Name(),
				fmtList(row.Top1), time.Since(t0).Seconds())
		}
	}
	t.Seconds = time.Since(t0).Seconds()
	return t, nil
}

// sensRow measures one layer at every rate and restores it.
func sensRow(l nn.Prunable, rates []float64, eval Eval, opt Pruning) (row SensRow, err error) {
	s := save(l)
	defer func() {
		if rerr := s.restore(); err == nil && rerr != nil {
			err = rerr
		}
	}()
	row.Name = l.Name()
	for _, r := range rates {
		if err := s.restore(); err != nil {
			return row, err
		}
		m, err := OneShot(l, r, opt)
		if err != nil {
			return row, err
		}
		if err := l.SetMask(m); err != nil {
			return row, err
		}
		a, ls, err := eval()
		if err != nil {
			return row, fmt.Errorf("layer %s at rate %g: %w", l.Name(), r, err)
		}
		row.Top1, row.Loss = append(row.Top1, a), append(row.Loss, ls)
		row.Pruned = append(row.Pruned, prunedFraction(m))
	}
	return row, nil
}

// checkRates reports rates that are not increasing percentages in (0, 100).
func checkRates(rates []float64) error {
	if len(rates) == 0 {
		return fmt.Errorf("budget: no rates")
	}
	for i, r := range rates {
		if !(r > 0 && r < 100) || (i > 0 && r <= rates[i-1]) {
			return fmt.Errorf("budget: rates %v: want increasing rates in (0, 100)", rates)
		}
	}
	return nil
}

func prunedFraction(m []float32) float64 {
	z := 0
	for _, v := range m {
		if v == 0 {
			z++
		}
	}
	return float64(z) / float64(max(1, len(m)))
}

func fmtList(xs []float64) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%.1f", x)
	}
	return s
}
