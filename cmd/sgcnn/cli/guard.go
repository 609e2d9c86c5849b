package cli

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sgcnn/sgcnn"
)

// Upper bounds of the size flags, documented in their help texts: a value
// past them is refused before any work, so that no flag can make a command
// allocate without bound.
const (
	maxBatch   = sgcnn.MaxBatch // --batch, --speed-batch
	maxShift   = sgcnn.MaxShift // --shift, pixels: half a CIFAR image
	maxClasses = 100000         // --classes, and a model file's "classes"
)

// limitFlags are integer flags where 0 means "all" and a negative value is
// meaningless: they must be 0 or more.
var limitFlags = []string{"train-limit", "test-limit", "epoch-size", "bn-images", "pretrain-epochs"}

// checkFlags refuses, for every command, a NaN or infinite value of any
// float flag, a negative limit, and a size flag past its bound. It runs
// before the command does any work.
func checkFlags(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil {
			return
		}
		switch f.Value.Type() {
		case "float64", "float32":
			err = finiteFlag(f.Name, f.Value.String())
		case "float64Slice", "float32Slice":
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				for _, s := range sv.GetSlice() {
					if err = finiteFlag(f.Name, s); err != nil {
						return
					}
				}
			}
		case "int":
			n, _ := strconv.Atoi(f.Value.String())
			err = boundIntFlag(f.Name, n)
		case "intSlice":
			if sv, ok := f.Value.(pflag.SliceValue); ok && f.Name == "batches" {
				for _, s := range sv.GetSlice() {
					if n, _ := strconv.Atoi(s); n > maxBatch {
						err = usagef("--batches %d: at most %d images per batch", n, maxBatch)
						return
					}
				}
			}
		}
	})
	return err
}

// finiteFlag refuses a NaN or infinite value of the float flag name.
func finiteFlag(name, s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
		return usagef("--%s %s: want a finite number", name, s)
	}
	return nil
}

// boundIntFlag checks the integer flags with a sign or size limit.
func boundIntFlag(name string, n int) error {
	for _, l := range limitFlags {
		if name == l && n < 0 {
			return usagef("--%s %d: want 0 (all) or more", name, n)
		}
	}
	switch {
	case (name == "batch" || name == "speed-batch") && n > maxBatch:
		return usagef("--%s %d: at most %d images per batch", name, n, maxBatch)
	case name == "shift" && (n < 0 || n > maxShift):
		return usagef("--shift %d: want 0 to %d pixels", n, maxShift)
	case name == "classes" && (n < 0 || n > maxClasses):
		return usagef("--classes %d: want 0 (the architecture's) to %d", n, maxClasses)
	}
	return nil
}

// watchSignals makes SIGINT and SIGTERM cancel the returned context from
// now on (start-up included), printing a note on stderr; a second signal
// ends the process at once with exit code 130. Call stop when done.
func watchSignals(g *globals) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sig:
			fmt.Fprintf(g.stderr, "sgcnn: %v: stopping (a second signal ends the process at once)\n", s)
			cancel()
		case <-done:
			return
		}
		select {
		case <-sig:
			os.Exit(130)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sig)
		close(done)
		cancel()
	}
}

// interruptedError is the error of a run stopped by a signal.
type interruptedError struct{ what string }

func (e interruptedError) Error() string { return "interrupted: " + e.what }

// stopped returns an interruptedError when the process has been signalled
// to stop: long commands call it between their start-up phases (loading
// data, models, teachers), where no context is checked.
func stopped(g *globals, what string) error {
	if g.ctx != nil && g.ctx.Err() != nil {
		return interruptedError{what}
	}
	return nil
}

// flagsGiven returns the string values of the flags set on the command
// line, except those named in skip.
func flagsGiven(fs *pflag.FlagSet, skip ...string) map[string]string {
	given := map[string]string{}
	fs.Visit(func(f *pflag.Flag) {
		for _, s := range skip {
			if f.Name == s {
				return
			}
		}
		given[f.Name] = f.Value.String()
	})
	return given
}

// quoteList joins names as "--a, --b".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "--" + n
	}
	return strings.Join(q, ", ")
}

// Bounds of sgcnn detect's sizes: the canvases are kept in memory (one byte
// a pixel), and a batch's activations grow with --batch x --size^2 (about
// 4 GB for a ResNet-56 backbone at the bound).
const (
	maxCanvasSize    = 256
	maxCanvases      = 100000
	maxBatchPixels   = 1 << 20
	maxCanvasesBytes = 2 << 30
)

// detectMemory refuses detect sizes whose data or activations would
// exceed the documented bounds, before anything is allocated.
func detectMemory(o *detectOptions) error {
	px := o.size * o.size
	switch {
	case (o.trainN+o.testN)*px > maxCanvasesBytes:
		return usagef("--train %d + --test %d canvases of %dx%d take %d MB: at most %d MB", o.trainN, o.testN, o.size, o.size, (o.trainN+o.testN)*px>>20, maxCanvasesBytes>>20)
	case o.cfg.Batch*px > maxBatchPixels:
		return usagef("--batch %d x --size %d^2 = %d pixels a batch: at most %d (lower --batch)", o.cfg.Batch, o.size, o.cfg.Batch*px, maxBatchPixels)
	case o.speedBatch*px > maxBatchPixels:
		return usagef("--speed-batch %d x --size %d^2 = %d pixels a batch: at most %d (lower --speed-batch)", o.speedBatch, o.size, o.speedBatch*px, maxBatchPixels)
	}
	return nil
}
