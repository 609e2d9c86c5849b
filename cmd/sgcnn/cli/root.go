// Package cli implements the sgcnn command line: one file per command,
// each with an options struct filled by flag parsing and a run function
// that does the work, so tests can call either.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn/internal/parallel"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
	// exitInterrupted ends a run stopped by SIGINT or SIGTERM (128 + 2).
	exitInterrupted = 130
)

// usageError marks a bad flag or argument.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Main runs the command line args and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	root, g := newRootG(stdout, stderr)
	var stop func()
	g.ctx, stop = watchSignals(g)
	defer stop()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "sgcnn:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	var ie interruptedError
	if errors.As(err, &ie) {
		return exitInterrupted
	}
	return exitError
}

type globals struct {
	threads int
	stdout  io.Writer
	stderr  io.Writer
	// ctx is cancelled by SIGINT or SIGTERM, from the start of the command.
	ctx context.Context
	// allowNonFinite loads models holding NaN or Inf (for debugging).
	allowNonFinite bool
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root, _ := newRootG(stdout, stderr)
	return root
}

// newRootG is newRoot that also returns the globals its commands share.
func newRootG(stdout, stderr io.Writer) (*cobra.Command, *globals) {
	g := &globals{stdout: stdout, stderr: stderr, ctx: context.Background()}
	root := &cobra.Command{
		Use:   "sgcnn",
		Short: "Compress CNNs by self-grouping convolution, and run them faster",
		Long: `sgcnn groups each layer's filters by their input-channel importance vectors
(k-means), prunes the connections each group's centroid deems unimportant,
fine-tunes, and reports accuracy, parameters, FLOPs and measured CPU speed
(Guo, Wu, Kittler, Feng, "Self-grouping Convolutional Neural Networks", 2020).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			loading = g
			if err := checkFlags(cmd); err != nil {
				return err
			}
			if g.threads < 0 {
				return usagef("--threads %d: want 0 (all cores) or more", g.threads)
			}
			parallel.SetThreads(g.threads)
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().IntVar(&g.threads, "threads", 0, "worker threads (0: one per core)")
	root.PersistentFlags().BoolVar(&g.allowNonFinite, "allow-nonfinite", false, "load models holding NaN or Inf values (for debugging only)")
	root.AddCommand(newTrainCmd(g), newEvalCmd(g), newInfoCmd(g), newImportCmd(g), newPruneCmd(g), newExportCmd(g), newBenchCmd(g), newTransferCmd(g), newDetectCmd(g), newAverageCmd(g))
	root.AddCommand(newServeCmd(g), newQuantizeCmd(g), newSensitivityCmd(g))
	return root, g
}

// interruptible returns a context cancelled on SIGINT or SIGTERM (see
// watchSignals, which catches them from the command's start), so long
// work stops at a clean point (after the current step, keeping the last
// checkpoint); kept says what is kept. Call cancel when the work is done.
func interruptible(g *globals, kept string) (ctx context.Context, cancel context.CancelFunc) {
	ctx, cancel = context.WithCancel(g.ctx)
	go func() {
		<-ctx.Done()
		if kept != "" && g.ctx.Err() != nil {
			fmt.Fprintf(g.stderr, "interrupted: stopping; %s\n", kept)
		}
	}()
	return ctx, cancel
}
