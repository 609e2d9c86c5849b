package budget

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the sensitivity table: the accuracy drop
// (percentage points) of each layer pruned alone at each rate.
func (t *SensitivityTable) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Sensitivity of %s\n\n", t.Model)
	fmt.Fprintf(&b, "Each prunable layer alone, one self-grouping step from the unpruned weights; accuracy drop in percentage points "+
		"(unpruned top-1 %.2f%%, loss %.4f) on %d images of %s. Measured in %.0f s on %s, %d threads, %s.\n\n",
		t.Top1, t.Loss, t.Images, t.Data, t.Seconds, t.CPU, t.Threads, t.Date)
	b.WriteString("| layer |")
	for _, r := range t.Rates {
		fmt.Fprintf(&b, " %g%% |", r)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(t.Rates)) + "\n")
	for i, r := range t.Layers {
		fmt.Fprintf(&b, "| %s |", r.Name)
		for _, d := range t.Drops(i) {
			fmt.Fprintf(&b, " %.2f |", d)
		}
		b.WriteString("\n")
	}
	b.WriteString("\nRise of the mean cross-entropy (nats):\n\n| layer |")
	for _, r := range t.Rates {
		fmt.Fprintf(&b, " %g%% |", r)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(t.Rates)) + "\n")
	for i, r := range t.Layers {
		fmt.Fprintf(&b, "| %s |", r.Name)
		for _, d := range t.Scores(i, LossRise) {
			fmt.Fprintf(&b, " %.4f |", d)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the cost table: each layer's time (one image, one
// thread, microseconds) and FLOPs at each rate, and the fitted latency
// model.
func (t *CostTable) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Cost table of %s\n\n", t.Model)
	fmt.Fprintf(&b, "Measured %s on %s, %d threads, batch %d. Network time per batch (best of the repeats): ", t.Date, t.CPU, t.Threads, t.Batch)
	for k, r := range t.Rates {
		fmt.Fprintf(&b, "%g%%: %.2f ms; ", r, t.TotalNs[k]/1e6)
	}
	fmt.Fprintf(&b, "fit: %.2f ms + %.3f x (sum of layer times), largest error %.1f%%; per-rate scales", t.Fixed/1e6, t.Scale, 100*t.FitError)
	for _, s := range t.Scales {
		fmt.Fprintf(&b, " %.3f", s)
	}
	b.WriteString(".\n\n")
	b.WriteString("| layer |")
	for _, r := range t.Rates {
		fmt.Fprintf(&b, " µs at %g%% |", r)
	}
	b.WriteString(" MFLOPs dense | MFLOPs at highest |\n|---|" + strings.Repeat("---:|", len(t.Rates)+2) + "\n")
	for _, r := range t.Layers {
		fmt.Fprintf(&b, "| %s |", r.Name)
		for _, ns := range r.Ns {
			fmt.Fprintf(&b, " %.1f |", ns/1e3)
		}
		fmt.Fprintf(&b, " %.3f | %.3f |\n", float64(r.FLOPs[0])/1e6, float64(r.FLOPs[len(r.FLOPs)-1])/1e6)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the plan: each layer's target rate, predicted
// drop and cost, and the network's prediction.
func (p *Plan) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Budget %s\n\n", p.Budget)
	unit := "top-1 points"
	if p.Metric == LossRise {
		unit = "loss rise, nats"
	}
	fmt.Fprintf(&b, "Rates chosen by %s: predicted %s %.3f of dense (lowest reachable %.3f), predicted damage %.3f (%s: "+
		"the sum of the layers' one-shot damage, before fine-tuning).\n\n", p.Method, p.Budget.Kind, p.Predicted, p.Lowest, p.PredictedDrop, unit)
	b.WriteString("| layer | rate | predicted damage | predicted cost |\n|---|---:|---:|---:|\n")
	for _, t := range p.Layers {
		fmt.Fprintf(&b, "| %s | %g | %.2f | %.4g |\n", t.Name, t.Rate, t.Drop, t.Cost)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
