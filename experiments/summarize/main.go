// Command summarize prints one Markdown table row per pruning run, for docs/RESULTS.md.
//
// It prints one Markdown table row per pruning run from the
// report.json files given on the command line, for docs/RESULTS.md, and
// optionally plots all runs' accuracy against FLOPs in one PNG.
//
//	go run ./experiments/summarize [-plot out.png] runs/*/report.json
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/sgcnn/sgcnn/internal/units"
	"github.com/sgcnn/sgcnn/report"
)

func main() {
	plot := flag.String("plot", "", "write accuracy against FLOPs of all runs to this PNG")
	flag.Parse()
	var runs []*report.Run
	fmt.Println("| model | method | scheme | target | baseline top-1 | after pruning | final top-1 | params | compression | FLOPs | FLOPs reduction | fine-tune epochs | measured speedup |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, path := range flag.Args() {
		f, err := os.Open(path)
		if err != nil {
			fail(err)
		}
		r, err := report.ReadJSON(f)
		f.Close()
		if err != nil {
			fail(fmt.Errorf("%s: %w", path, err))
		}
		runs = append(runs, r)
		last := r.Steps[len(r.Steps)-1]
		final := last
		if r.Final != nil {
			final = *r.Final
		}
		epochs := 0
		for _, s := range r.Steps {
			epochs += s.Epochs
		}
		if r.Final != nil {
			epochs += r.Final.Epochs
		}
		sp := "–"
		if final.Speedup > 0 {
			sp = fmt.Sprintf("%.2fx", final.Speedup)
		}
		fmt.Printf("| %s | %s | %s | Conv-%g/FC-%g | %.2f | %.2f | %.2f | %s | %.2fx | %s | %.2fx | %d | %s |\n",
			r.Model, r.Method, r.Scheme, last.Rate, last.FCCap, r.Baseline.AccTuned, last.AccPruned, final.AccTuned,
			units.Human(final.Params), final.Compression, units.Human(final.FLOPs), final.FLOPsReduction, epochs, sp)
	}
	if *plot != "" {
		if err := report.PlotAccuracyVsFLOPs(*plot, runs...); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "summarize:", err)
	os.Exit(1)
}
