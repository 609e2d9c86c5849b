// Command baselines gathers pruning runs' report.json files into a comparison table and plot.
//
// experiments/baselines.sh runs it:
//
//	go run ./experiments/baselines -o docs/results/baselines-lenet \
//		-title "..." -note "..." runs/baselines/lenet/*/report.json
//
// writes PREFIX.md (title, note, the tables of report.WriteComparison and the
// plot) and PREFIX.png (report.PlotMethods).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sgcnn/sgcnn/internal/atomicfile"
	"github.com/sgcnn/sgcnn/report"
)

func main() {
	prefix := flag.String("o", "", "output prefix: writes PREFIX.md and PREFIX.png")
	title := flag.String("title", "Pruning methods at equal FLOPs", "Markdown title")
	note := flag.String("note", "", "paragraph under the title (command, date, machine)")
	flag.Parse()
	if *prefix == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: baselines -o PREFIX [-title T] [-note N] report.json...")
		os.Exit(2)
	}
	if err := run(*prefix, *title, *note, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "baselines:", err)
		os.Exit(1)
	}
}

func run(prefix, title, note string, paths []string) error {
	outs, err := report.ReadOutcomes(paths)
	if err != nil {
		return err
	}
	if err := report.PlotMethods(prefix+".png", outs); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n", title)
	if note != "" {
		fmt.Fprintf(&b, "%s\n\n", note)
	}
	if err := report.WriteComparison(&b, outs); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\n![test top-1 against FLOPs, one line per method](%s.png)\n", filepath.Base(prefix))
	fmt.Fprintf(&b, "\nParams and FLOPs follow the paper's count (one FLOP is one multiply-accumulate); a FLOPs reduction is a ratio of counts, not a speedup.\n")
	err = atomicfile.Write(prefix+".md", func(w io.Writer) error { _, err := w.Write(b.Bytes()); return err })
	if err == nil {
		fmt.Fprintf(os.Stderr, "wrote %s.md, %s.png from %d runs\n", prefix, prefix, len(outs))
	}
	return err
}
