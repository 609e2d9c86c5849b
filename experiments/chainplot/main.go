// Command chainplot plots test top-1 per epoch over a chain of fine-tuning stages.
//
// It plots the test top-1 after every epoch of a chain of
// fine-tuning stages, each continuing an earlier stage's model, against the
// epochs since the dense model, with a horizontal goal line: docs/RESULTS.md
// section 4's ResNet-56 Conv-62 stages (4a-4f) in one picture.
//
// Each stage is NAME:START:LOG, where LOG is a log of sgcnn prune or sgcnn
// train (progress lines are skipped) and START the number of epochs before
// its first one. A log may hold several runs one after another (e.g. the
// cycles of a cyclic rate, each a train command of a few epochs): an epoch
// count that falls starts the next run, whose epochs follow the last one's.
// -scale NAME=F (repeatable) counts each of NAME's epochs as F epochs, e.g.
// 0.2 for epochs of 10,000 of CIFAR-10's 50,000 training images. It prints
// each stage's epochs and last accuracy. A -point NAME:X:Y (repeatable) adds
// one marked result, e.g. an averaged model's.
//
//	go run ./experiments/chainplot -o chain.png -goal 93.39 \
//	    4a:0:docs/results/logs/r56-G-conv62-long-20261126.log \
//	    4c:25:docs/results/logs/r56-G-conv62-kd-20261126.log
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/sgcnn/sgcnn/report"
)

// epochLine matches a finished epoch's line of sgcnn train, or of sgcnn
// prune's global phase; the local epochs of scheme LG (lines "local step S
// epoch E/N") restart their count at every step and are not a chain's.
var epochLine = regexp.MustCompile(`^(?:global step \d+|\w+) epoch (\d+)/\d+ .*test top-1 ([0-9.]+)%`)

// stage is one fine-tuning stage: its name, the epochs before it, and the
// test top-1 after each of its epochs.
type stage struct {
	name  string
	start float64
	top1  []float64
}

// scales maps a stage's name to the full epochs each of its epochs counts as.
type scales map[string]float64

func (sc scales) Set(v string) error {
	name, f, ok := strings.Cut(v, "=")
	x, err := strconv.ParseFloat(f, 64)
	if !ok || err != nil || x <= 0 {
		return fmt.Errorf("want NAME=F with F > 0, got %q", v)
	}
	sc[name] = x
	return nil
}

func (sc scales) String() string { return fmt.Sprint(map[string]float64(sc)) }

func main() {
	out := flag.String("o", "chain.png", "PNG to write")
	goal := flag.Float64("goal", 0, "draw a horizontal line at this top-1 (0: none)")
	var points []string
	flag.Func("point", "add one marked result NAME:X:Y (repeatable)", func(v string) error {
		points = append(points, v)
		return nil
	})
	scale := scales{}
	flag.Var(scale, "scale", "count each epoch of stage NAME as F epochs: NAME=F (repeatable)")
	title := flag.String("title", "test top-1 after each fine-tuning epoch", "plot title")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: chainplot [-o out.png] [-goal top1] NAME:START:LOG...")
		os.Exit(2)
	}
	var xs, ys [][]float64
	var names []string
	last := 0.0
	for _, arg := range flag.Args() {
		s, err := readStage(arg)
		if err != nil {
			fail(err)
		}
		f, ok := scale[s.name]
		if !ok {
			f = 1
		}
		var x []float64
		for i := range s.top1 {
			x = append(x, s.start+f*float64(i+1))
		}
		last = max(last, x[len(x)-1])
		xs, ys, names = append(xs, x), append(ys, s.top1), append(names, s.name)
		fmt.Printf("%s: epochs %g-%g, last %.2f%%\n", s.name, x[0], x[len(x)-1], s.top1[len(s.top1)-1])
	}
	for _, p := range points {
		name, x, y, err := readPoint(p)
		if err != nil {
			fail(err)
		}
		last = max(last, x)
		xs, ys, names = append(xs, []float64{x}), append(ys, []float64{y}), append(names, name)
	}
	if *goal > 0 {
		xs = append(xs, []float64{0, last + 1}) // one epoch of room: no marker on the edge
		ys = append(ys, []float64{*goal, *goal})
		names = append(names, fmt.Sprintf("goal %.2f", *goal))
	}
	if err := report.PlotCurve(*out, xs, ys, names, *title, "epochs since the dense model", "test top-1 (%)"); err != nil {
		fail(err)
	}
}

// readStage parses NAME:START:LOG and reads the log's epoch lines; an epoch
// that was resumed (logged twice) counts once, with its last line, and an
// epoch count that falls starts the log's next run.
func readStage(arg string) (stage, error) {
	parts := strings.SplitN(arg, ":", 3)
	if len(parts) != 3 {
		return stage{}, fmt.Errorf("%q: want NAME:START:LOG", arg)
	}
	start, err := strconv.ParseFloat(parts[1], 64)
	if err != nil {
		return stage{}, fmt.Errorf("%q: START: %w", arg, err)
	}
	f, err := os.Open(parts[2])
	if err != nil {
		return stage{}, err
	}
	defer f.Close()
	byEpoch := map[int]float64{}
	n := 0
	offset, prev := 0, 0 // epochs of the log's earlier runs; the last epoch line's count
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	sc.Split(scanLines)
	for sc.Scan() {
		m := epochLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		e, _ := strconv.Atoi(m[1])
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return stage{}, fmt.Errorf("%s: %q: %w", parts[2], m[0], err)
		}
		if e < prev {
			offset += prev
		}
		prev = e
		e += offset
		byEpoch[e] = v
		n = max(n, e)
	}
	if err := sc.Err(); err != nil {
		return stage{}, fmt.Errorf("%s: %w", parts[2], err)
	}
	if n == 0 {
		return stage{}, fmt.Errorf("%s: no finished epoch", parts[2])
	}
	s := stage{name: parts[0], start: start}
	for e := 1; e <= n; e++ {
		v, ok := byEpoch[e]
		if !ok {
			return stage{}, fmt.Errorf("%s: no line for epoch %d of %d", parts[2], e, n)
		}
		s.top1 = append(s.top1, v)
	}
	return s, nil
}

// readPoint parses NAME:X:Y.
func readPoint(arg string) (name string, x, y float64, err error) {
	parts := strings.Split(arg, ":")
	if len(parts) != 3 {
		return "", 0, 0, fmt.Errorf("-point %q: want NAME:X:Y", arg)
	}
	if x, err = strconv.ParseFloat(parts[1], 64); err == nil {
		y, err = strconv.ParseFloat(parts[2], 64)
	}
	if err != nil {
		return "", 0, 0, fmt.Errorf("-point %q: %w", arg, err)
	}
	return parts[0], x, y, nil
}

// scanLines splits at '\n' and at the '\r' of progress lines.
func scanLines(data []byte, atEOF bool) (int, []byte, error) {
	for i, b := range data {
		if b == '\n' || b == '\r' {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "chainplot:", err)
	os.Exit(1)
}
