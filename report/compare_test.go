package report

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func outcomeRun(method string, seed uint64, rate, acc float64, flops int64, speedup float64) *Run {
	base := Step{AccPruned: 99, AccTuned: 99, Counts: Counts{Params: 1000, FLOPs: 4000, Compression: 1, FLOPsReduction: 1}}
	last := Step{Index: 1, Rate: rate, AccPruned: acc - 1, AccTuned: -1,
		Counts: Counts{Params: 500, FLOPs: flops, FLOPsReduction: 4000 / float64(flops)}}
	final := last
	final.AccTuned, final.Speedup = acc, speedup
	return &Run{Model: "net", Method: method, Config: map[string]any{"seed": float64(seed)},
		Baseline: base, Steps: []Step{last}, Final: &final}
}

func TestTable(t *testing.T) {
	var outs []Outcome
	for _, r := range []*Run{
		outcomeRun("l1filter", 1, 50, 97, 2000, 0),
		outcomeRun("self-grouping", 2, 50, 98.5, 2010, 1.5),
		outcomeRun("self-grouping", 1, 50, 98, 1990, 0),
		outcomeRun("regular", 1, 75, 96, 1000, 0),
	} {
		o, err := OutcomeOf(r)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, o)
	}
	ms := Means(outs)
	if len(ms) != 3 || ms[0].Method != "self-grouping" || ms[1].Method != "l1filter" || ms[2].Rate != 75 {
		t.Fatalf("means in the wrong order: %+v", ms)
	}
	if m := ms[0]; m.Seeds != 2 || m.Top1 != 98.25 || m.Min != 98 || m.Max != 98.5 || m.FLOPs != 2000 ||
		m.FLOPsReduction != 2 || m.Speedup != 1.5 {
		t.Errorf("self-grouping mean %+v", m)
	}
	var b bytes.Buffer
	if err := WriteComparison(&b, outs); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| net | 99.00 | 1.00K | 4.00K |",
		"| net | 50% | self-grouping | 2 | 98.25 [98.00, 98.50] | -0.75 | 500 | 2.00x | 2.00K | 2.00x | 1.50x |",
		"| net | 75% | regular | 1 | 96.00 | -3.00 | 500 | 2.00x | 1.00K | 4.00x | – |",
		"| net | 50% | l1filter | 1 | 96.00 | 97.00 | 500 | 2.00K | 2.00x | – |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	path := filepath.Join(t.TempDir(), "plot.png")
	if err := PlotMethods(path, outs); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() < 1000 {
		t.Errorf("plot: %v, %v", st, err)
	}
	if _, err := OutcomeOf(&Run{}); err == nil {
		t.Error("run without steps: no error")
	}
	if math.IsNaN(ms[2].Compression) {
		t.Error("NaN compression")
	}
}
