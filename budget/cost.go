package budget

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/tensor"
)

// CostTable holds each layer's cost at each rate, measured on one CPU at
// one batch size and thread count.
type CostTable struct {
	Key
	Date string `json:"date"`
	// Layers are in forward order; each row has one entry per Rates.
	Layers []CostRow `json:"layers"`
	// TotalNs is the compiled network's forward time of a batch with every
	// layer pruned one-shot at each rate: the best of the repeats over the
	// best of the dense network's, timed alternately with it, times the
	// median of the dense network's best times.
	TotalNs []float64 `json:"total_ns"`
	// Fixed and Scale fit TotalNs[k] ~ Fixed + Scale * sum(layers' Ns[k]):
	// Fixed is the time of everything else (stem, shortcuts, pooling,
	// thread start), Scale turns one image's single-thread kernel time
	// into a share of the batch's. FitError is the largest relative error
	// of the fit at the measured points.
	Fixed    float64 `json:"fixed_ns"`
	Scale    float64 `json:"scale"`
	FitError float64 `json:"fit_error"`
	// Scales calibrates each rate: Scales[k] = (TotalNs[k] - Fixed) /
	// sum(layers' Ns[k]), so that a layer at rate k costs Scales[k] *
	// Ns[k] and every uniform mix is predicted as it was measured; a mix
	// of rates sums its layers' calibrated costs.
	Scales []float64 `json:"scales"`
	// FixedFLOPs and FixedParams count what the layers do not cover;
	// DenseFLOPs and DenseParams the whole network at rate 0.
	FixedFLOPs  int64 `json:"fixed_flops"`
	FixedParams int64 `json:"fixed_params"`
	DenseFLOPs  int64 `json:"dense_flops"`
	DenseParams int64 `json:"dense_params"`
}

// Key says what a cost table was measured for: a table is reused only
// for the same key (LoadCosts).
type Key struct {
	CPU     string    `json:"cpu"`     // CPUModel()
	Threads int       `json:"threads"` // worker threads
	Batch   int       `json:"batch"`   // images per forward
	Model   string    `json:"model"`
	Layers  []string  `json:"layer_names"`
	Rates   []float64 `json:"rates"` // percent, 0 (the dense layer) first
}

// CostRow is one layer's costs: Ns is one image's kernel time on one
// thread in nanoseconds (compile.LayerInfo, the route the compiler
// chose), FLOPs and Params the paper's counts.
type CostRow struct {
	Name   string    `json:"name"`
	Ns     []float64 `json:"ns"`
	FLOPs  []int64   `json:"flops"`
	Params []int64   `json:"params"`
	Pruned []float64 `json:"pruned"`
}

// CostOptions configures MeasureCosts.
type CostOptions struct {
	Model   string
	Rates   []float64 // percent, ascending, in (0, 100); rate 0 is added
	Batch   int       // images per timed forward
	Repeats int       // timed forwards per rate (the best is kept)
	Threads int       // threads of the compiled networks; < 1: the program's default
	Pruning Pruning
	Log     io.Writer
}

// MeasureCosts measures the cost table of net (one image of shape in) for
// layers, at opt.Threads threads: for rate 0 and each rate, every
// layer is pruned one-shot (OneShot) from its current weights, the
// network counted (package count, the layers by the masked rule) and
// compiled with measured routes (package compile), and a random batch
// timed alternately with the dense network (TimePair). Times are kept as
// ratios to what was measured alongside (see TotalNs and layerTimes), so
// that load on a shared machine that changes between rates cancels. The
// layers' weights and masks are restored at the end.
func MeasureCosts(net nn.Layer, in [3]int, layers []nn.Prunable, opt CostOptions) (*CostTable, error) {
	if err := checkRates(opt.Rates); err != nil {
		return nil, err
	}
	if opt.Batch < 1 || opt.Repeats < 1 {
		return nil, fmt.Errorf("budget: batch %d, repeats %d: want >= 1", opt.Batch, opt.Repeats)
	}
	names := make([]string, len(layers))
	saves := make([]saved, len(layers))
	for i, l := range layers {
		names[i], saves[i] = l.Name(), save(l)
	}
	defer func() {
		for _, s := range saves {
			_ = s.restore()
		}
	}()
	t := &CostTable{Key: Key{CPU: CPUModel(), Threads: parallel.NewPool(opt.Threads).Threads(), Batch: opt.Batch, Model: opt.Model,
		Layers: names, Rates: append([]float64{0}, opt.Rates...)}, Date: time.Now().UTC().Format(time.RFC3339)}
	t.Layers = make([]CostRow, len(layers))
	for i := range t.Layers {
		t.Layers[i].Name = names[i]
	}
	infos := make([][]compile.LayerInfo, len(t.Rates))
	ratio := make([]float64, len(t.Rates))
	var denseBest []float64
	for k, r := range t.Rates {
		for i, l := range layers {
			if err := saves[i].restore(); err != nil {
				return nil, err
			}
			if r > 0 {
				m, err := OneShot(l, r, opt.Pruning)
				if err != nil {
					return nil, err
				}
				if err := l.SetMask(m); err != nil {
					return nil, err
				}
			}
			t.Layers[i].Pruned = append(t.Layers[i].Pruned, prunedFraction(l.Mask()))
		}
		if err := t.countAt(net, in, names, k); err != nil {
			return nil, err
		}
		pruned, dense, info, err := timePair(net, in, opt.Batch, opt.Repeats, t.Threads)
		if err != nil {
			return nil, err
		}
		ratio[k], infos[k], denseBest = pruned/dense, info, append(denseBest, dense)
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, "cost table: rate %g: %.2f ms against %.2f ms dense per batch of %d on %d threads\n",
				r, pruned/1e6, dense/1e6, opt.Batch, t.Threads)
		}
	}
	// Each rate's time is its ratio to the dense network timed alternately
	// with it, times the median dense time: load that changes between
	// rates cancels.
	ref := medianOf(denseBest)
	for k := range t.Rates {
		t.TotalNs = append(t.TotalNs, ratio[k]*ref)
	}
	t.layerTimes(infos)
	t.fit()
	return t, nil
}

func medianOf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// countAt fills column k of the FLOPs and params, and the fixed counts.
func (t *CostTable) countAt(net nn.Layer, in [3]int, names []string, k int) error {
	c, err := count.Count(net, in, names...)
	if err != nil {
		return err
	}
	var fl, pa int64
	for i := range t.Layers {
		j := slices.IndexFunc(c.Rows, func(r count.Row) bool { return r.Name == names[i] })
		if j < 0 {
			return fmt.Errorf("budget: layer %s is not counted (not a conv or linear layer?)", names[i])
		}
		t.Layers[i].FLOPs = append(t.Layers[i].FLOPs, c.Rows[j].FLOPs)
		t.Layers[i].Params = append(t.Layers[i].Params, c.Rows[j].Params)
		fl += c.Rows[j].FLOPs
		pa += c.Rows[j].Params
	}
	if k == 0 {
		t.FixedFLOPs, t.FixedParams = c.FLOPs-fl, c.Params-pa
		t.DenseFLOPs, t.DenseParams = c.FLOPs, c.Params
	}
	return nil
}

// layerTimes fills each layer's Ns from the compile reports. The
// compiler times a conv's candidate routes alternately, the dense route
// among them (all live filters over the union of their inputs: the dense
// layer's work), so the chosen route's time over the dense route's is
// robust to load; a layer's time at a rate is that ratio times the
// layer's median dense-route time over the rates (its time at rate 0,
// where one kept-input pattern leaves nothing to measure). A layer the
// compiler does not time (a linear layer) gets its multiply-adds times
// the convs' mean dense time per multiply-add.
func (t *CostTable) layerTimes(infos [][]compile.LayerInfo) {
	var ns, macs float64
	for _, info := range infos {
		for _, li := range info {
			if li.DenseNs > 0 {
				ns += li.DenseNs
				macs += float64(li.DenseMACs)
			}
		}
	}
	perMAC := 0.0
	if macs > 0 {
		perMAC = ns / macs
	}
	for i := range t.Layers {
		row := &t.Layers[i]
		found := make([]*compile.LayerInfo, len(infos))
		var dense []float64
		for k, info := range infos {
			for j := range info {
				if info[j].Name == row.Name {
					found[k] = &info[j]
					if info[j].DenseNs > 0 {
						dense = append(dense, info[j].DenseNs)
					}
				}
			}
		}
		row.Ns = make([]float64, len(infos))
		for k, li := range found {
			if li == nil {
				continue
			}
			if len(dense) == 0 {
				row.Ns[k] = float64(li.MACs) * perMAC
				continue
			}
			base := medianOf(dense)
			switch {
			case routeNs(*li) > 0 && li.DenseNs > 0:
				row.Ns[k] = base * routeNs(*li) / li.DenseNs
			case li.DenseMACs > 0:
				row.Ns[k] = base * float64(li.MACs) / float64(li.DenseMACs)
			default:
				row.Ns[k] = base
			}
		}
	}
}

// routeNs is the measured time of the route the compiler chose (0: not
// measured).
func routeNs(li compile.LayerInfo) float64 {
	switch li.Route {
	case compile.Grouped:
		return li.GroupedNs
	case compile.Merged, compile.MergedFit:
		return li.MergedNs
	case compile.Dense:
		return li.DenseNs
	}
	return 0
}

// fit fits TotalNs ~ Fixed + Scale * sum(Ns) over the rates by the
// Theil-Sen estimator (the median of the pairwise slopes, then the median
// intercept), which a few timings spoiled by load on a shared machine do
// not pull off; through the origin (the median ratio) when that line
// would have a negative intercept or slope.
func (t *CostTable) fit() {
	xs := make([]float64, len(t.Rates))
	for k := range t.Rates {
		for _, r := range t.Layers {
			xs[k] += r.Ns[k]
		}
	}
	ys := t.TotalNs
	var slopes, icepts, ratios []float64
	for i := range xs {
		for j := i + 1; j < len(xs); j++ {
			if dx := xs[j] - xs[i]; math.Abs(dx) > 1e-9*max(xs[i], xs[j]) {
				slopes = append(slopes, (ys[j]-ys[i])/dx)
			}
		}
		if xs[i] > 0 {
			ratios = append(ratios, ys[i]/xs[i])
		}
	}
	t.Fixed, t.Scale = 0, 0
	if len(slopes) > 0 {
		t.Scale = medianOf(slopes)
		for i := range xs {
			icepts = append(icepts, ys[i]-t.Scale*xs[i])
		}
		t.Fixed = medianOf(icepts)
	}
	if !(t.Scale > 0) || t.Fixed < 0 {
		t.Fixed = 0
		if len(ratios) > 0 {
			t.Scale = medianOf(ratios)
		}
	}
	t.FitError = 0
	t.Scales = make([]float64, len(xs))
	for k, x := range xs {
		t.FitError = max(t.FitError, math.Abs(t.Fixed+t.Scale*x-ys[k])/ys[k])
		t.Scales[k] = t.Scale
		if x > 0 && ys[k] > t.Fixed {
			t.Scales[k] = (ys[k] - t.Fixed) / x
		}
	}
}

// Predict returns the predicted forward time of a batch (ns) with layer i
// at rate index idx[i].
func (t *CostTable) Predict(idx []int) float64 {
	s := t.Fixed
	for i, k := range idx {
		s += t.Scales[k] * t.Layers[i].Ns[k]
	}
	return s
}

// TimePair times net's compiled network with its masks (pruned) and with
// its masks ignored (dense) on a random batch, alternating the two for
// repeats rounds after a warm-up, and returns the best time of each in
// nanoseconds: on a shared machine the best estimates the uncontended
// time, and alternating exposes both to the same load. Both run on threads
// goroutines (< 1: the program's default).
func TimePair(net nn.Layer, in [3]int, batch, repeats, threads int) (pruned, dense float64, err error) {
	if batch < 1 || repeats < 1 {
		return 0, 0, fmt.Errorf("budget: batch %d, repeats %d: want >= 1", batch, repeats)
	}
	pruned, dense, _, err = timePair(net, in, batch, repeats, threads)
	return pruned, dense, err
}

// timePair is TimePair, also returning the pruned network's compile
// report (routes measured per layer).
func timePair(net nn.Layer, in [3]int, batch, repeats, threads int) (pruned, dense float64, info []compile.LayerInfo, err error) {
	p, err := compile.Compile(net, in[:], compile.Options{Threads: threads})
	if err != nil {
		return 0, 0, nil, err
	}
	d, err := compile.Compile(net, in[:], compile.Options{IgnoreMasks: true, Threads: threads})
	if err != nil {
		return 0, 0, nil, err
	}
	r := rand.New(rand.NewPCG(uint64(batch), 7))
	x := tensor.New(batch, in[0], in[1], in[2])
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	pruned, dense = math.Inf(1), math.Inf(1)
	for rep := range repeats + 1 {
		for i, c := range []*compile.Net{p, d} {
			t0 := time.Now()
			if _, err := c.Forward(x); err != nil {
				return 0, 0, nil, err
			}
			ns := float64(time.Since(t0).Nanoseconds())
			if rep == 0 {
				continue
			}
			if i == 0 {
				pruned = min(pruned, ns)
			} else {
				dense = min(dense, ns)
			}
		}
	}
	return pruned, dense, p.Layers(), nil
}
