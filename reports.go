package sgcnn

import (
	"io"
	"path/filepath"
	"strings"

	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/internal/maskgroup"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/report"
)

// WriteReports writes a pruning run's report files into dir (which must
// exist): report.json, report.md, accuracy_vs_flops.png, training.png
// (when the run fine-tuned) and a group map per sampled layer of m
// (groups_<layer>.png: the first, middle and last pruned layers).
func WriteReports(dir string, m *Model, r *report.Run) error {
	_, err := WriteReportFiles(dir, m.Model, r)
	return err
}

// WriteReportFiles is WriteReports for a bare network; it returns the
// paths it wrote, in order.
func WriteReportFiles(dir string, m *models.Model, r *report.Run) ([]string, error) {
	var files []string
	write := func(name string, fn func(io.Writer) error) error {
		path := filepath.Join(dir, name)
		files = append(files, path)
		return atomicfile.Write(path, fn)
	}
	if err := write("report.json", func(w io.Writer) error { return report.WriteJSON(w, r) }); err != nil {
		return files, err
	}
	if err := write("report.md", func(w io.Writer) error { return report.WriteMarkdown(w, r) }); err != nil {
		return files, err
	}
	plot := func(name string, fn func(string) error) error {
		path := filepath.Join(dir, name)
		files = append(files, path)
		return fn(path)
	}
	if err := plot("accuracy_vs_flops.png", func(p string) error { return report.PlotAccuracyVsFLOPs(p, r) }); err != nil {
		return files, err
	}
	if len(r.Epochs) > 0 {
		if err := plot("training.png", func(p string) error { return report.PlotTraining(p, r.Epochs) }); err != nil {
			return files, err
		}
	}
	for _, l := range GroupMapLayers(m) {
		name := "groups_" + strings.ReplaceAll(l.Name, ".", "_") + ".png"
		if err := plot(name, func(p string) error { return report.PlotGroupMap(p, l) }); err != nil {
			return files, err
		}
	}
	return files, nil
}

// GroupMapLayers describes the first, middle and last pruned layers of m
// by the groups their final masks form: filters sharing one kept-input
// pattern are one group (the groups the executor runs), dead filters a
// group of their own.
func GroupMapLayers(m *models.Model) []report.Layer {
	var pruned []report.Layer
	for _, p := range m.PrunableLayers() {
		mask := p.Mask()
		if mask == nil {
			continue
		}
		n, c := p.MaskShape()
		groups, dead := maskgroup.Of(mask, n, c)
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
