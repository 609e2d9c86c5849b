package report

import (
	"fmt"
	"io"
	"strings"
)

// Choice records a choice a run made on its own measurements, e.g. to keep
// the average of its cycles' models or its last model.
type Choice struct {
	What   string `json:"what"`   // what was chosen, e.g. "weight averaging"
	Chosen string `json:"chosen"` // the option kept
	// On names the images that chose: EvalValidation, or "" when a fixed
	// rule chose (no validation split, and the test set chooses nothing).
	On string `json:"on,omitempty"`
	// Options are the options' top-1 on those images, in percent.
	Options []Option `json:"options,omitempty"`
}

// Option is one option of a Choice and its score.
type Option struct {
	Name string  `json:"name"`
	Top1 float64 `json:"top1"`
}

// headerFor is the schedule table's header for r: its accuracy columns
// say "val top-1" when r's accuracies are on a validation split.
func headerFor(r *Run) []string {
	if !r.OnValidation() {
		return scheduleHeader
	}
	h := append([]string(nil), scheduleHeader...)
	for i, c := range h {
		h[i] = strings.Replace(c, "top-1", "val top-1", 1)
	}
	return h
}

// notesFor says how to read r's schedule table.
func notesFor(r *Run) string {
	if !r.OnValidation() {
		return notes
	}
	return strings.Replace(notes, "Top-1 is the test accuracy", "Top-1 in the table is the validation accuracy", 1)
}

// writeHoldout writes, for a run measured on a validation split, the
// split and the final model's validation and test top-1 side by side,
// and which of them chose what.
func writeHoldout(w io.Writer, r *Run) {
	if !r.OnValidation() {
		if len(r.Choices) > 0 {
			fmt.Fprintf(w, "\n## Choices\n")
			writeChoices(w, r)
		}
		return
	}
	fmt.Fprintf(w, "\n## Validation and test\n\n")
	if v := r.Validation; v != nil {
		fmt.Fprintf(w, "Validation split: %d of the %d training images (seed %d), held out of every epoch.\n\n", v.Images, v.Of, v.Seed)
	}
	val := -1.0
	if r.Final != nil {
		val = r.Final.AccTuned
	} else if n := len(r.Steps); n > 0 {
		val = r.Steps[n-1].AccTuned
	}
	test := -1.0
	if r.FinalTest != nil {
		test = *r.FinalTest
	}
	row(w, []string{"final model", "val top-1", "test top-1"})
	row(w, []string{"---", "---:", "---:"})
	kept := "last epoch"
	if n := len(r.Choices); n > 0 {
		kept = r.Choices[n-1].Chosen
	}
	row(w, []string{kept, acc(val), acc(test)})
	fmt.Fprintf(w, "\nEvery accuracy measured during the run is on the validation split; the run keeps the last epoch "+
		"of every phase unless a choice below says otherwise, and any choice made on its numbers (a schedule, an epoch, an averaging window) is made on "+
		"validation. The test set was evaluated once, on the final model, at the end.\n")
	writeChoices(w, r)
}

// writeChoices lists the choices r made and what made them.
func writeChoices(w io.Writer, r *Run) {
	for _, c := range r.Choices {
		var opts []string
		for _, o := range c.Options {
			opts = append(opts, fmt.Sprintf("%s %s", o.Name, acc(o.Top1)))
		}
		on := "a fixed rule (no validation split)"
		if c.On != "" {
			on = "the " + c.On + " split"
		}
		fmt.Fprintf(w, "\n- %s: kept %s, chosen by %s", c.What, c.Chosen, on)
		if len(opts) > 0 {
			fmt.Fprintf(w, " (top-1: %s)", strings.Join(opts, ", "))
		}
		fmt.Fprintln(w)
	}
}
