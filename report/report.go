// Package report holds the record of a pruning run (one row per pruning
// step, with accuracy right after pruning and after fine-tuning, counts and
// their ratios, and measured speed) and renders it as JSON for machines,
// Markdown for people, and PNG plots.
//
// The pipeline fills a Run as it goes; report only reads it. Files:
//
//	report.go    the record types
//	json.go      WriteJSON, ReadJSON, ConfigOf
//	markdown.go  WriteMarkdown and the cell formatters
//	plot.go      PlotAccuracyVsFLOPs, PlotCurve, the PNG writer
//	training.go  PlotTraining
//	groupmap.go  PlotGroupMap
//	compare.go   comparison of finished runs across methods and seeds:
//	             Outcome, Means, WriteComparison, PlotMethods
//
// Writers take an io.Writer; a caller writing a file wraps them in
// atomicfile.Write. Plots take a path and write the PNG the
// same way (a temporary file renamed over path), so a failed plot leaves
// nothing behind. Accuracies are top-1 in percent, -1 when not measured,
// on the test set or, when Run.Eval says so, on a validation split (the
// test top-1 is then Run.FinalTest); ratios are 0 when not measured.
package report

// Counts are a model's parameter and FLOP totals (FLOP = one
// multiply-accumulate) and their ratios to the dense baseline.
type Counts struct {
	Params         int64   `json:"params"`
	FLOPs          int64   `json:"flops"`
	Compression    float64 `json:"compression"`     // baseline params / params
	FLOPsReduction float64 `json:"flops_reduction"` // baseline FLOPs / FLOPs
}

// Step is one row of a run: the state after pruning at a cumulative rate
// and after the fine-tuning that followed.
type Step struct {
	Index int     `json:"index"` // 1-based; 0 is the baseline
	Rate  float64 `json:"rate"`  // conv rate in percent
	FCCap float64 `json:"fc_rate"`
	// AccPruned is the test top-1 (percent) right after pruning, before
	// any fine-tuning; AccTuned after this step's fine-tuning (local, or
	// global for the last step). NaN-free: -1 when not measured.
	AccPruned float64 `json:"acc_pruned"`
	AccTuned  float64 `json:"acc_tuned"`
	Epochs    int     `json:"epochs"` // fine-tuning epochs after this step
	Counts
	// Speedup is the measured wall-clock speedup of the compiled model
	// over the dense one (batch 64, all threads), 0 when not measured.
	Speedup float64 `json:"speedup,omitempty"`
	// Layers holds per-layer detail of the masks after this step.
	Layers []Layer `json:"layers,omitempty"`
}

// Layer is one prunable layer's state after a step.
type Layer struct {
	Name     string  `json:"name"`
	Rate     float64 `json:"rate"`     // rate applied, percent
	Pruned   float64 `json:"pruned"`   // pruned fraction of connections
	Groups   int     `json:"groups"`   // k-means groups used this step
	Patterns int     `json:"patterns"` // distinct input patterns after the step
	Dead     int     `json:"dead"`     // filters with no input left
	// Labels and Mask describe the grouping (for the group map plot):
	// Labels[i] is filter i's group, Mask the N x C connection mask.
	Labels []int     `json:"-"`
	Mask   []float32 `json:"-"`
	N, C   int       `json:"-"`
}

// Epoch is one fine-tuning epoch.
type Epoch struct {
	Phase    string  `json:"phase"` // "local" or "global"
	Step     int     `json:"step"`  // pruning step it follows
	Epoch    int     `json:"epoch"` // 1-based within the phase
	LR       float64 `json:"lr"`
	Loss     float64 `json:"train_loss"`
	TestTop1 float64 `json:"test_top1"`
}

// Run is the whole record of a pruning run.
type Run struct {
	Model    string            `json:"model"`
	Dataset  string            `json:"dataset"`
	Method   string            `json:"method"` // e.g. "self-grouping"
	Scheme   string            `json:"scheme"` // LG, G or L
	Config   map[string]any    `json:"config"`
	Baseline Step              `json:"baseline"`
	Steps    []Step            `json:"steps"`
	Epochs   []Epoch           `json:"epochs"`
	Final    *Step             `json:"final,omitempty"` // after global fine-tuning
	Machine  map[string]string `json:"machine,omitempty"`
	// Eval names the images of every accuracy above: "test" (also when
	// empty, as in reports written before validation splits) or
	// "validation", the images of Validation, held out of training.
	Eval       string      `json:"eval,omitempty"`
	Validation *Validation `json:"validation,omitempty"`
	// FinalTest is the final model's test top-1 (percent) in a run whose
	// accuracies are on validation: the test set's one evaluation, at the
	// end, after every choice was made.
	FinalTest *float64 `json:"final_test_top1,omitempty"`
	// Choices are the choices the run made on its own measurements.
	Choices []Choice `json:"choices,omitempty"`
}

// Eval values: the images a run's accuracies were measured on.
const (
	EvalTest       = "test"
	EvalValidation = "validation"
)

// Validation records a validation split: Images training images, drawn
// with Seed out of the Of the run was given, held out of every epoch.
type Validation struct {
	Images int    `json:"images"`
	Of     int    `json:"of"`
	Seed   uint64 `json:"seed"`
}

// OnValidation reports whether r's accuracies are on a validation split.
func (r *Run) OnValidation() bool { return r.Eval == EvalValidation }
