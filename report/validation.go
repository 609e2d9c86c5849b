package report

import (
	"fmt"
	"io"
	"strings"
)

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
	row(w, []string{"last epoch", acc(val), acc(test)})
	fmt.Fprintf(w, "\nEvery accuracy measured during the run is on the validation split; the run keeps the last epoch "+
		"of every phase, and any choice made on its numbers (a schedule, an epoch, an averaging window) is made on "+
		"validation. The test set was evaluated once, on the final model, at the end.\n")
}
