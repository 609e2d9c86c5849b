// Command budgetcmp compares pruning runs by accuracy against measured latency.
//
// For each run folder of sgcnn prune it loads the final model
// (checkpoint.safetensors), reads the final test top-1 from report.json,
// and times the compiled pruned network against the compiled dense one
// (budget.TimePair: alternately, best of -repeats, at -batch images on
// -threads threads). A folder with a budget-plan.json is a budgeted run,
// any other a uniform one. It writes a Markdown table (-md) and a plot of
// top-1 against measured latency, uniform and budgeted runs as two series
// (-o). Issue 24's comparison (experiments/budget.sh).
//
//	go run ./experiments/budgetcmp -o cmp.png -md cmp.md runs/budget/resnet20/*-s[12]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sgcnn/sgcnn/budget"
	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/report"
)

// result is one run's row.
type result struct {
	dir      string
	budgeted bool
	target   string // the budget, or the uniform rate
	top1     float64
	latency  float64 // measured pruned / dense
	ms       float64 // measured pruned, per batch
	flops    float64 // FLOPs reduction (dense / pruned)
}

func main() {
	out := flag.String("o", "budget_cmp.png", "plot to write")
	md := flag.String("md", "", "Markdown table to write (default: stdout only)")
	batch := flag.Int("batch", 64, "images per timed forward")
	threads := flag.Int("threads", 2, "worker threads")
	repeats := flag.Int("repeats", 10, "timed forwards per network (the best counts)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: budgetcmp [flags] RUNDIR...")
		os.Exit(2)
	}
	var rs []result
	for _, dir := range flag.Args() {
		r, err := measure(dir, *batch, *repeats, *threads)
		if err != nil {
			fmt.Fprintf(os.Stderr, "budgetcmp: %s: %v\n", dir, err)
			os.Exit(1)
		}
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(a, b result) int {
		if a.budgeted != b.budgeted {
			if a.budgeted {
				return 1
			}
			return -1
		}
		return strings.Compare(a.dir, b.dir)
	})
	table := markdown(rs, *batch, *threads)
	fmt.Print(table)
	if *md != "" {
		if err := atomicfile.Write(*md, func(w io.Writer) error { _, err := io.WriteString(w, table); return err }); err != nil {
			fmt.Fprintln(os.Stderr, "budgetcmp:", err)
			os.Exit(1)
		}
	}
	if err := plot(*out, rs); err != nil {
		fmt.Fprintln(os.Stderr, "budgetcmp:", err)
		os.Exit(1)
	}
}

// measure loads one run's final model and report and times it.
func measure(dir string, batch, repeats, threads int) (result, error) {
	r := result{dir: dir}
	raw, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		return r, err
	}
	var rep report.Run
	if err := json.Unmarshal(raw, &rep); err != nil {
		return r, err
	}
	last := rep.Final
	if last == nil && len(rep.Steps) > 0 {
		last = &rep.Steps[len(rep.Steps)-1]
	}
	if last == nil {
		return r, fmt.Errorf("report.json has no step")
	}
	r.top1, r.flops = last.AccTuned, last.FLOPsReduction
	if r.top1 < 0 {
		r.top1 = last.AccPruned
	}
	if p, err := budget.LoadPlan(filepath.Join(dir, "budget-plan.json")); err == nil {
		r.budgeted, r.target = true, p.Budget.String()
	} else {
		r.target = fmt.Sprintf("uniform %g%%", last.Rate)
	}
	f, err := models.LoadFile(filepath.Join(dir, "checkpoint.safetensors"), "")
	if err != nil {
		return r, err
	}
	pruned, dense, err := budget.TimePair(f.Model.Net, f.Model.InputShape, batch, repeats, threads)
	if err != nil {
		return r, err
	}
	r.latency, r.ms = pruned/dense, pruned/1e6
	return r, nil
}

func markdown(rs []result, batch, threads int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s, batch %d, %d threads (best of the repeats; the machine was shared).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), budget.CPUModel(), batch, threads)
	b.WriteString("| run | schedule | test top-1 | measured latency (of dense) | ms per batch | FLOPs reduction |\n|---|---|---:|---:|---:|---:|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | %s | %.2f | %.3f | %.2f | %.2fx |\n", filepath.Base(r.dir), r.target, r.top1, r.latency, r.ms, r.flops)
	}
	return b.String()
}

func plot(path string, rs []result) error {
	xs, ys := make([][]float64, 2), make([][]float64, 2)
	for _, r := range rs {
		i := 0
		if r.budgeted {
			i = 1
		}
		xs[i], ys[i] = append(xs[i], r.latency), append(ys[i], r.top1)
	}
	for i := range xs { // PlotCurve joins the points in order
		idx := make([]int, len(xs[i]))
		for k := range idx {
			idx[k] = k
		}
		slices.SortFunc(idx, func(a, b int) int {
			if xs[i][a] < xs[i][b] {
				return -1
			}
			if xs[i][a] > xs[i][b] {
				return 1
			}
			return 0
		})
		sx, sy := make([]float64, len(idx)), make([]float64, len(idx))
		for k, j := range idx {
			sx[k], sy[k] = xs[i][j], ys[i][j]
		}
		xs[i], ys[i] = sx, sy
	}
	return report.PlotCurve(path, xs, ys, []string{"uniform rate", "budgeted rates"},
		"top-1 against measured latency", "measured latency, fraction of dense (compiled)", "test top-1 (%)")
}
