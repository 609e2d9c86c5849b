package kernel

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// i8AMXKey is a group shape tuneI8AMX measures: the conv's geometry (its
// channels aside), the group's filters and quads, and whether the group
// would otherwise run flat.
type i8AMXKey struct {
	impl                      string
	h, w, kh, kw, stride, pad int
	nf, nq                    int
	flat                      bool
}

// i8AMXMargin is the share of the other route's time AMX must beat (so
// that measurement noise does not move shapes of equal speed).
const i8AMXMargin = 0.95

var (
	i8AMXMu sync.Mutex
	// i8AMXTimes holds the median times of each measured shape on the
	// route it would take otherwise [0] and on AMX [1].
	i8AMXTimes = map[i8AMXKey][2]time.Duration{}
)

// i8AMXFaster reports whether AMX was measured faster for a group of nf
// filters over nq quads of conv p than the route it takes otherwise
// (flat or the padded tiles), once per shape (tuneI8AMX).
func i8AMXFaster(p Conv, nf, nq int, flat bool) bool {
	k := i8AMXKey{i8Cur.name, p.H, p.W, p.KH, p.KW, p.Stride, p.Pad, nf, nq, flat}
	i8AMXMu.Lock()
	defer i8AMXMu.Unlock()
	t, ok := i8AMXTimes[k]
	if !ok {
		t = tuneI8AMX(k)
		i8AMXTimes[k] = t
	}
	return float64(t[1]) < i8AMXMargin*float64(t[0])
}

// tuneI8AMX measures the group shape k, bias and ReLU fused into fp32
// stores, on its other route and on AMX in alternation, and returns the
// median time of a run of each over 15 rounds. Each round times about 10
// microseconds of runs of the other route, then one run on AMX: in a
// network the AMX groups run between other work, and the first tile
// instructions after other work cost about a microsecond more on the
// machine this was written on (Sapphire Rapids class; 0.1 microseconds
// back to back), which repeated runs on AMX alone would hide.
func tuneI8AMX(k i8AMXKey) [2]time.Duration {
	p := Conv{C: 4 * k.nq, H: k.h, W: k.w, N: k.nf, KH: k.kh, KW: k.kw, Stride: k.stride, Pad: k.pad}
	r := rand.New(rand.NewPCG(uint64(k.h*100+k.w), uint64(k.nf*100+k.nq)))
	g := Group{Weights: make([]float32, k.nf*p.C*k.kh*k.kw)}
	for i := range g.Weights {
		g.Weights[i] = r.Float32() - 0.5
	}
	g.Filters = make([]int, k.nf)
	for i := range g.Filters {
		g.Filters[i] = i
	}
	g.Channels = r.Perm(p.C)
	x := make([]float32, p.C*p.H*p.W)
	for i := range x {
		x[i] = r.Float32()
	}
	y := make([]float32, k.nf*p.OutH()*p.OutW())
	e := &Epilogue{Bias: make([]float32, k.nf), ReLU: true}
	ws := new(Workspace)
	var runs [2]func()
	for i := range runs {
		pl := newInt8Plan(p, []Group{g}, ActQuantRange(0, 1))
		g0 := &pl.groups[0]
		g0.flat = k.flat && i == 0
		if i == 1 {
			pl.amxPrepare(g0)
		}
		runs[i] = func() { pl.Forward(x, y, e, ws) }
		runs[i]() // warm: the workspace grows
	}
	t0 := time.Now()
	runs[0]()
	reps := max(1, min(64, int(10*time.Microsecond/max(time.Since(t0), 1))))
	var ts [2][]time.Duration
	for range 15 {
		t0 := time.Now()
		for range reps {
			runs[0]()
		}
		ts[0] = append(ts[0], time.Since(t0)/time.Duration(reps))
		t0 = time.Now()
		runs[1]() // once, after 10 microseconds of other work, as in a network
		ts[1] = append(ts[1], time.Since(t0))
	}
	var best [2]time.Duration
	for i := range ts {
		slices.Sort(ts[i])
		best[i] = ts[i][len(ts[i])/2]
	}
	return best
}

// i8AMXTuning describes tuneI8AMX's measurements for Int8Tuning ("" where
// none ran): per implementation, the group shapes measured, how many run
// on AMX, and the range of AMX's time over the other route's.
func i8AMXTuning() string {
	i8AMXMu.Lock()
	defer i8AMXMu.Unlock()
	type agg struct {
		n, amx int
		lo, hi float64
	}
	m := map[string]*agg{}
	for k, t := range i8AMXTimes {
		a := m[k.impl]
		if a == nil {
			a = &agg{lo: 1e9}
			m[k.impl] = a
		}
		rel := float64(t[1]) / float64(t[0])
		a.n++
		if float64(t[1]) < i8AMXMargin*float64(t[0]) {
			a.amx++
		}
		a.lo, a.hi = min(a.lo, rel), max(a.hi, rel)
	}
	s := ""
	for impl, a := range m {
		if s != "" {
			s += "; "
		}
		s += fmt.Sprintf("int8 AMX (%s): %d of %d group shapes on AMX (AMX / other route time %.2f to %.2f)", impl, a.amx, a.n, a.lo, a.hi)
	}
	return s
}
