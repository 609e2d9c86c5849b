// Package cli implements the sgcnn command line: one file per command,
// each with an options struct filled by flag parsing and a run function
// that does the work, so tests can call either.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn/internal/parallel"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks a bad flag or argument.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Main runs the command line args and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
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
	return exitError
}

type globals struct {
	threads int
	stdout  io.Writer
	stderr  io.Writer
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
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
	root.AddCommand(newTrainCmd(g), newEvalCmd(g), newInfoCmd(g), newImportCmd(g), newPruneCmd(g), newExportCmd(g), newBenchCmd(g), newTransferCmd(g), newDetectCmd(g), newAverageCmd(g))
	root.AddCommand(newSensitivityCmd(g)) // issue 24
	return root
}

// interruptible returns a context cancelled on the first Ctrl-C, so long
// work stops at a clean point (after the current step, keeping the last
// checkpoint); kept says what is kept. Call cancel when the work is done.
func interruptible(g *globals, kept string) (ctx context.Context, cancel context.CancelFunc) {
	ctx, cancel = context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() {
		defer signal.Stop(sig)
		select {
		case <-sig:
			if kept != "" {
				fmt.Fprintf(g.stderr, "interrupted: stopping; %s\n", kept)
			}
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
