package cli

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/sgcnn/sgcnn/checkpoint"
	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/report"
)

// writeReports writes a pruning run's report files into dir.
func writeReports(g *globals, dir string, r *report.Run) error {
	path := filepath.Join(dir, "report.json")
	if err := checkpoint.WriteFileAtomic(path, func(w io.Writer) error { return writeJSON(w, r) }); err != nil {
		return err
	}
	fmt.Fprintf(g.stderr, "wrote %s\n", path)
	return nil
}

// printSummary prints one line per step.
func printSummary(g *globals, r *report.Run) {
	acc := func(v float64) string {
		if v < 0 {
			return "   -  "
		}
		return fmt.Sprintf("%6.2f", v)
	}
	fmt.Fprintf(g.stdout, "%s on %s, %s %s\n", r.Model, r.Dataset, r.Method, r.Scheme)
	fmt.Fprintf(g.stdout, "%-9s %6s %8s %8s %9s %7s %9s %7s\n", "step", "rate", "pruned", "tuned", "params", "ratio", "FLOPs", "ratio")
	row := func(name string, s report.Step) {
		fmt.Fprintf(g.stdout, "%-9s %6g %8s %8s %9s %6.2fx %9s %6.2fx\n", name, s.Rate, acc(s.AccPruned), acc(s.AccTuned),
			count.Human(s.Params), s.Compression, count.Human(s.FLOPs), s.FLOPsReduction)
	}
	row("baseline", r.Baseline)
	for _, s := range r.Steps {
		row(fmt.Sprint(s.Index), s)
	}
	if r.Final != nil {
		row("final", *r.Final)
	}
}
