package report

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/sgcnn/sgcnn/internal/units"
)

// dash stands in a Markdown cell for a value that was not measured.
const dash = "–"

// Label names the run in plot legends: its model, dataset, method and
// scheme, those that are set, separated by spaces.
func (r *Run) Label() string {
	var parts []string
	for _, s := range []string{r.Model, r.Dataset, r.Method, r.Scheme} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return "run"
	}
	return strings.Join(parts, " ")
}

// WriteMarkdown writes r as a Markdown report: a title, the config, the
// schedule table (the baseline row first, one row per pruning step, the
// row after global fine-tuning last), the per-layer table of the last
// step, and a note on how to read the numbers.
//
// In the schedule table "top-1 pruned" is the test accuracy right after
// pruning and "top-1 tuned" the accuracy after the fine-tuning that
// followed; "–" marks what was not measured. Counts are written as the
// paper writes them (25.55M, 4.09G).
func WriteMarkdown(w io.Writer, r *Run) error {
	bw := bufio.NewWriter(w)
	title := r.Model
	if title == "" {
		title = "model"
	}
	if r.Dataset != "" {
		title += " on " + r.Dataset
	}
	var how []string
	if r.Method != "" {
		how = append(how, r.Method)
	}
	if r.Scheme != "" {
		how = append(how, "scheme "+r.Scheme)
	}
	if len(how) > 0 {
		title += ": " + strings.Join(how, ", ")
	}
	fmt.Fprintf(bw, "# %s\n", cell(title))

	writeMap(bw, "Config", r.Config)
	if len(r.Machine) > 0 {
		m := make(map[string]any, len(r.Machine))
		for k, v := range r.Machine {
			m[k] = v
		}
		writeMap(bw, "Machine", m)
	}

	fmt.Fprintf(bw, "\n## Schedule\n\n")
	writeSchedule(bw, r)
	writeHoldout(bw, r)

	if n := len(r.Steps); n > 0 && len(r.Steps[n-1].Layers) > 0 {
		last := r.Steps[n-1]
		fmt.Fprintf(bw, "\n## Layers after step %d (conv rate %s%%)\n\n", last.Index, num(last.Rate))
		writeLayers(bw, last.Layers)
	}

	fmt.Fprintf(bw, "\n%s\n", notesFor(r))
	return bw.Flush()
}

// notes says how to read the schedule table.
const notes = "Params and FLOPs are counted by the paper's rules (one FLOP is one multiply-accumulate). " +
	"A FLOPs reduction is a ratio of counts, not a speedup: the speedup column is measured wall-clock time " +
	"of the compiled model against the dense one (" + dash + " when not measured). " +
	"Top-1 is the test accuracy after the last epoch of each phase, not the best epoch."

// scheduleHeader is the header of the schedule table, column by column.
var scheduleHeader = []string{"step", "conv rate", "FC rate", "top-1 pruned", "top-1 tuned", "epochs",
	"params", "compression", "FLOPs", "FLOPs reduction", "speedup"}

// writeSchedule writes the schedule table.
func writeSchedule(w io.Writer, r *Run) {
	header := headerFor(r)
	row(w, header)
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---:"
	}
	seps[0] = "---"
	row(w, seps)

	b := r.Baseline
	row(w, []string{"baseline", dash, dash, dash, acc(b.AccTuned), dash,
		units.Human(b.Params), ratio(b.Compression), units.Human(b.FLOPs), ratio(b.FLOPsReduction), ratio(b.Speedup)})
	for _, s := range r.Steps {
		row(w, stepCells(fmt.Sprint(s.Index), s, s.AccPruned))
	}
	if f := r.Final; f != nil {
		// The final row repeats the last step's masks; its accuracy
		// after pruning is the last step's, so it is not written twice.
		row(w, stepCells("final", *f, -1))
	}
}

// stepCells gives a schedule row for s, labelled name.
func stepCells(name string, s Step, pruned float64) []string {
	epochs := dash
	if s.Epochs > 0 {
		epochs = fmt.Sprint(s.Epochs)
	}
	return []string{name, num(s.Rate) + "%", num(s.FCCap) + "%", acc(pruned), acc(s.AccTuned), epochs,
		units.Human(s.Params), ratio(s.Compression), units.Human(s.FLOPs), ratio(s.FLOPsReduction), ratio(s.Speedup)}
}

// writeLayers writes the per-layer table.
func writeLayers(w io.Writer, ls []Layer) {
	row(w, []string{"layer", "rate", "pruned", "groups", "patterns", "dead"})
	row(w, []string{"---", "---:", "---:", "---:", "---:", "---:"})
	for _, l := range ls {
		row(w, []string{cell(l.Name), num(l.Rate) + "%", fmt.Sprintf("%.3f", l.Pruned),
			fmt.Sprint(l.Groups), fmt.Sprint(l.Patterns), fmt.Sprint(l.Dead)})
	}
}

// writeMap writes m as a section of "- key: value" lines in key order;
// nothing when m is empty.
func writeMap(w io.Writer, title string, m map[string]any) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## %s\n\n", title)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(w, "- %s: %s\n", k, value(m[k]))
	}
}

// value formats a config value: numbers without a trailing ".0" or
// exponent where they are whole, lists with commas.
func value(v any) string {
	switch v := v.(type) {
	case float64:
		return num(v)
	case float32:
		return num(float64(v))
	case string:
		if v == "" {
			return `""`
		}
		return v
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = value(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []string:
		return "[" + strings.Join(v, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// row writes one table row; cells are escaped.
func row(w io.Writer, cells []string) {
	esc := make([]string, len(cells))
	for i, c := range cells {
		esc[i] = cell(c)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(esc, " | "))
}

// cell escapes what would end a table cell or the line.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// num writes a rate or config number as short as it reads: 60, 62.5.
func num(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%g", x)
}

// acc writes a top-1 accuracy in percent; negative means not measured.
func acc(x float64) string {
	if x < 0 || math.IsNaN(x) {
		return dash
	}
	return fmt.Sprintf("%.2f", x)
}

// ratio writes a ratio as 2.34x; zero means not measured.
func ratio(x float64) string {
	if x == 0 || math.IsNaN(x) {
		return dash
	}
	return fmt.Sprintf("%.2fx", x)
}
