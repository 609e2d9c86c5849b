package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestMarkdownValidation checks that a run measured on a validation split
// labels its accuracy columns so, puts the final model's validation and
// test top-1 side by side, and names what chose; a run on the test set
// keeps the old table.
func TestMarkdownValidation(t *testing.T) {
	test := 98.76
	r := &Run{Model: "lenet5", Eval: EvalValidation, Validation: &Validation{Images: 5000, Of: 60000, Seed: 3},
		Baseline: Step{AccPruned: 99.1, AccTuned: 99.1},
		Steps:    []Step{{Index: 1, Rate: 95, AccPruned: 40, AccTuned: -1}},
		Final:    &Step{Index: 1, Rate: 95, AccPruned: -1, AccTuned: 99.05}, FinalTest: &test,
		Choices: []Choice{{What: "averaging", Chosen: "the average", On: EvalValidation,
			Options: []Option{{Name: "average", Top1: 99.05}, {Name: "last model", Top1: 98.9}}}}}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"| val top-1 pruned | val top-1 tuned |", "5000 of the 60000 training images (seed 3)",
		"| the average | 99.05 | 98.76 |", "kept the average, chosen by the validation split (top-1: average 99.05, last model 98.90)",
		"Top-1 in the table is the validation accuracy"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	r.Eval, r.Validation, r.FinalTest, r.Choices = EvalTest, nil, nil, nil
	b.Reset()
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	if md := b.String(); strings.Contains(md, "val top-1") || strings.Contains(md, "Validation and test") ||
		!strings.Contains(md, "| top-1 pruned | top-1 tuned |") {
		t.Errorf("a run on the test set shows validation columns:\n%s", md)
	}
}
