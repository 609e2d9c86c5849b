package cli

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/sgcnn/sgcnn/checkpoint"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/report"
	"github.com/sgcnn/sgcnn/selfgroup"
)

// writeReports writes a pruning run's report files into dir: report.json,
// report.md, accuracy_vs_flops.png, training.png and a group map per
// sampled layer (groups_<layer>.png).
func writeReports(g *globals, dir string, m *models.Model, r *report.Run) error {
	var files []string
	write := func(name string, fn func(io.Writer) error) error {
		path := filepath.Join(dir, name)
		files = append(files, path)
		return checkpoint.WriteFileAtomic(path, fn)
	}
	if err := write("report.json", func(w io.Writer) error { return report.WriteJSON(w, r) }); err != nil {
		return err
	}
	if err := write("report.md", func(w io.Writer) error { return report.WriteMarkdown(w, r) }); err != nil {
		return err
	}
	plot := func(name string, fn func(string) error) error {
		path := filepath.Join(dir, name)
		files = append(files, path)
		return fn(path)
	}
	if err := plot("accuracy_vs_flops.png", func(p string) error { return report.PlotAccuracyVsFLOPs(p, r) }); err != nil {
		return err
	}
	if len(r.Epochs) > 0 {
		if err := plot("training.png", func(p string) error { return report.PlotTraining(p, r.Epochs) }); err != nil {
			return err
		}
	}
	for _, l := range groupMapLayers(m) {
		name := "groups_" + strings.ReplaceAll(l.Name, ".", "_") + ".png"
		if err := plot(name, func(p string) error { return report.PlotGroupMap(p, l) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(g.stderr, "wrote %s\n", strings.Join(files, ", "))
	return nil
}

// groupMapLayers describes the first, middle and last pruned layers by
// the groups their final masks form: filters sharing one kept-input
// pattern are one group (the groups the executor runs), dead filters a
// group of their own.
func groupMapLayers(m *models.Model) []report.Layer {
	var pruned []report.Layer
	for _, p := range m.PrunableLayers() {
		mask := p.Mask()
		if mask == nil {
			continue
		}
		n, c := p.MaskShape()
		groups, dead := selfgroup.GroupsOf(mask, n, c)
		labels := make([]int, n)
		for k, fs := range groups {
			for _, f := range fs {
				labels[f] = k
			}
		}
		for _, f := range dead {
			labels[f] = len(groups)
		}
		zeros := 0
		for _, v := range mask {
			if v == 0 {
				zeros++
			}
		}
		pruned = append(pruned, report.Layer{Name: p.Name(), Groups: len(groups), Patterns: len(groups), Dead: len(dead),
			Pruned: float64(zeros) / float64(len(mask)), Labels: labels, Mask: mask, N: n, C: c})
	}
	if len(pruned) <= 3 {
		return pruned
	}
	return []report.Layer{pruned[0], pruned[len(pruned)/2], pruned[len(pruned)-1]}
}

// printSummary prints the report as Markdown.
func printSummary(g *globals, r *report.Run) {
	var b bytes.Buffer
	if err := report.WriteMarkdown(&b, r); err == nil {
		g.stdout.Write(b.Bytes())
	}
}
