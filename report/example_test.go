package report_test

import (
	"os"

	"github.com/sgcnn/sgcnn/report"
)

// A LeNet-5 run of one step at 95%, scheme G: no local fine-tuning, so
// step 1 has no accuracy after fine-tuning, and no measured speedup.
func ExampleWriteMarkdown() {
	r := &report.Run{
		Model: "lenet5", Dataset: "mnist", Method: "self-grouping", Scheme: "G",
		Baseline: report.Step{AccPruned: 99.4, AccTuned: 99.4, Speedup: 1,
			Counts: report.Counts{Params: 431080, FLOPs: 2293840, Compression: 1, FLOPsReduction: 1}},
		Steps: []report.Step{{Index: 1, Rate: 95, FCCap: 95, AccPruned: 11.35, AccTuned: -1,
			Counts: report.Counts{Params: 22000, FLOPs: 388000, Compression: 19.59, FLOPsReduction: 5.91}}},
	}
	f := r.Steps[0]
	f.AccTuned, f.Epochs = 99.17, 30
	r.Final = &f
	if err := report.WriteMarkdown(os.Stdout, r); err != nil {
		panic(err)
	}
	// Output:
	// # lenet5 on mnist: self-grouping, scheme G
	//
	// ## Schedule
	//
	// | step | conv rate | FC rate | top-1 pruned | top-1 tuned | epochs | params | compression | FLOPs | FLOPs reduction | speedup |
	// | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
	// | baseline | – | – | – | 99.40 | – | 431.08K | 1.00x | 2.29M | 1.00x | 1.00x |
	// | 1 | 95% | 95% | 11.35 | – | – | 22.00K | 19.59x | 388.00K | 5.91x | – |
	// | final | 95% | 95% | – | 99.17 | 30 | 22.00K | 19.59x | 388.00K | 5.91x | – |
	//
	// Params and FLOPs are counted by the paper's rules (one FLOP is one multiply-accumulate). A FLOPs reduction is a ratio of counts, not a speedup: the speedup column is measured wall-clock time of the compiled model against the dense one (– when not measured). Top-1 is the test accuracy after the last epoch of each phase, not the best epoch.
}
