package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/prune"
	"github.com/sgcnn/sgcnn/pytorch"
	"github.com/sgcnn/sgcnn/tensor"
)

// warmNets (flag -warm) runs an untimed forward of each network and conv
// before each timed one, so that none is timed on caches the job before
// it filled, or (batch 64) on a second core that the one-thread job
// before it left idle.
var warmNets bool

// netBatches are the batch sizes of the model rows.
var netBatches = []int{1, 64}

// netJobs times one architecture pruned to Conv-70 against itself dense,
// both compiled, at each of netBatches.
type netJobs struct {
	arch          string
	flopsRed      float64
	dense, pruned []*job // by batch
	// splitDense and splitPruned run batch 1 with Options.SplitOne: each
	// conv split over the threads (by output rows, or by groups).
	splitDense, splitPruned *job
	// cur and prev time dense and pruned ([0] and [1]) with this
	// session's kernel layout changes and without them (the epilogue run
	// after the kernels, kernel.SetFusedEpilogue(false), and plans built
	// in the full padded pitch, kernel.SetCompactPitch(false)), by batch,
	// each after an untimed forward of its own, so that none inherits a
	// cache that another network filled (the plain jobs above run cold).
	cur, prev [2][]*job
}

// newNetJobs loads arch's pretrained weights from dir, prunes it as sgcnn
// bench does (one self-grouping step, seed 1, convs at 70%, FC at 60%)
// and compiles it with and without its masks on threads threads.
func newNetJobs(arch, dir string, threads int) (*netJobs, error) {
	m, err := models.New(arch, 0, 1)
	if err != nil {
		return nil, err
	}
	files, _ := filepath.Glob(filepath.Join(dir, arch+"-*.th"))
	if len(files) == 0 {
		return nil, fmt.Errorf("-weights: no pretrained checkpoint %s", filepath.Join(dir, arch+"-*.th"))
	}
	sd, err := pytorch.Load(files[0])
	if err != nil {
		return nil, err
	}
	if err := models.LoadStateDict(m, sd.Tensors); err != nil {
		return nil, fmt.Errorf("%s: %w", files[0], err)
	}
	base, err := count.Count(m.Net, m.InputShape, m.Prunable...)
	if err != nil {
		return nil, err
	}
	sg, err := prune.New(prune.MethodSelfGrouping, prune.Options{Seed: 1})
	if err != nil {
		return nil, err
	}
	if _, err := prune.Once(m, 70, 60, sg); err != nil {
		return nil, err
	}
	pruned, err := count.Count(m.Net, m.InputShape)
	if err != nil {
		return nil, err
	}
	parallel.SetThreads(threads) // compile measures routes as it will run
	// The goal networks run a batch of one image unsplit (SplitOff), so
	// that the batch-1 speedup compares like with like; the split
	// networks below, and SplitAuto's choice, are reported beside them.
	pnet, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{Threads: threads, SplitOne: compile.SplitOff})
	if err != nil {
		return nil, err
	}
	dnet, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{IgnoreMasks: true, Threads: threads, SplitOne: compile.SplitOff})
	if err != nil {
		return nil, err
	}
	pnetS, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{SplitOne: compile.SplitOn, Plan: pnet.Plan()})
	if err != nil {
		return nil, err
	}
	dnetS, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{SplitOne: compile.SplitOn, IgnoreMasks: true})
	if err != nil {
		return nil, err
	}
	// The same networks, routes and threads on the kernels' previous
	// layout: full padded pitch (and, when timed, the unfused epilogue).
	was := kernel.SetCompactPitch(false)
	pnetP, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{Threads: threads, Plan: pnet.Plan(), SplitOne: compile.SplitOff})
	if err != nil {
		return nil, err
	}
	dnetP, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{IgnoreMasks: true, Threads: threads, SplitOne: compile.SplitOff})
	kernel.SetCompactPitch(was)
	if err != nil {
		return nil, err
	}
	n := &netJobs{arch: arch, flopsRed: count.FLOPsReduction(base.Totals, pruned.Totals)}
	r := rand.New(rand.NewPCG(22, 2))
	for _, b := range netBatches {
		x := tensor.New(append([]int{b}, m.InputShape[:]...)...)
		for i := range x.Data {
			x.Data[i] = float32(r.NormFloat64())
		}
		timer := func(net *compile.Net, settle time.Duration) func() (time.Duration, time.Duration) {
			forward := func() {
				if _, err := net.Forward(x); err != nil {
					panic(err) // shapes are fixed above: a failure is a bug
				}
			}
			return func() (time.Duration, time.Duration) {
				if warmNets {
					forward()
				}
				return timed(forward, settle)
			}
		}
		n.dense = append(n.dense, &job{name: fmt.Sprintf("%s dense b%d", arch, b), time: timer(dnet, teamSettle)})
		n.pruned = append(n.pruned, &job{name: fmt.Sprintf("%s pruned b%d", arch, b), time: timer(pnet, teamSettle)})
		warm := func(net *compile.Net, fused bool) func() (time.Duration, time.Duration) {
			t := timer(net, teamSettle)
			return func() (time.Duration, time.Duration) {
				defer kernel.SetFusedEpilogue(kernel.SetFusedEpilogue(fused))
				t()
				return t()
			}
		}
		for i, kind := range []string{"dense", "pruned"} {
			nets := [2]*compile.Net{dnet, pnet}
			n.cur[i] = append(n.cur[i], &job{name: fmt.Sprintf("%s %s b%d now", arch, kind, b), time: warm(nets[i], true)})
			nets = [2]*compile.Net{dnetP, pnetP}
			n.prev[i] = append(n.prev[i], &job{name: fmt.Sprintf("%s %s b%d before", arch, kind, b), time: warm(nets[i], false)})
		}
		if b == 1 && threads >= 2 {
			n.splitDense = &job{name: arch + " dense b1 split", time: timer(dnetS, teamSettle)}
			n.splitPruned = &job{name: arch + " pruned b1 split", time: timer(pnetS, teamSettle)}
		}
	}
	return n, nil
}

// jobs lists n's timings, dense and pruned of each batch side by side.
func (n *netJobs) jobs() []*job {
	var out []*job
	for i := range n.dense {
		out = append(out, n.dense[i], n.pruned[i], n.cur[0][i], n.cur[1][i], n.prev[0][i], n.prev[1][i])
	}
	if n.splitDense != nil {
		out = append(out, n.splitDense, n.splitPruned)
	}
	return out
}

// ortRow is one row of bench/onnx's table.
type ortRow struct {
	name, rate, batch string
	ratio             float64 // sgcnn / ORT speed
}

// readORT reads the rows of bench/onnx's Markdown table from path:
// | model | rate | FLOPs red. | batch | threads | sgcnn ms | nn ms | ORT ms
// | ORT form | sgcnn img/s | ORT img/s | sgcnn / ORT |.
func readORT(path string) ([]ortRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-onnx: %w", err)
	}
	defer f.Close()
	var rows []ortRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "|")
		if len(c) != 14 || !strings.HasPrefix(strings.TrimSpace(c[1]), "resnet") {
			continue
		}
		for i := range c {
			c[i] = strings.TrimSpace(c[i])
		}
		// The ratio from the two times, not the table's rounded one (a
		// 0.998 printed as 1.00x would meet a 1.0 goal).
		var ratio, tsg, tort float64
		if _, err := fmt.Sscanf(c[12], "%fx", &ratio); err != nil {
			return nil, fmt.Errorf("-onnx %s: row %q: sgcnn / ORT %q is not a ratio", path, sc.Text(), c[12])
		}
		_, e1 := fmt.Sscanf(c[6], "%f", &tsg)
		_, e2 := fmt.Sscanf(c[8], "%f", &tort)
		if e1 == nil && e2 == nil && tsg > 0 && tort > 0 {
			ratio = tort / tsg
		}
		what := "dense"
		if c[2] != "0" {
			what = "Conv-" + c[2]
		}
		rows = append(rows, ortRow{rate: c[2], batch: c[4], ratio: ratio,
			name: fmt.Sprintf("%s %s batch %s, %s threads (%s ms / ORT %s ms)", c[1], what, c[4], c[5], c[6], c[8])})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("-onnx %s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("-onnx %s: no bench_onnx table rows", path)
	}
	return rows, nil
}
