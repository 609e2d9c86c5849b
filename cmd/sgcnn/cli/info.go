package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn/count"
	"github.com/sgcnn/sgcnn/models"
)

type infoOptions struct {
	list    bool
	json    bool
	classes int
	arch    string
}

func newInfoCmd(g *globals) *cobra.Command {
	o := &infoOptions{}
	cmd := &cobra.Command{
		Use:   "info MODEL",
		Short: "Print a model's per-layer parameter and FLOP counts",
		Long: `Print a per-layer table (weight and output shapes, live filters, pruned
fraction of connections, parameters, FLOPs) and the totals of a model.

MODEL is an architecture name (counted dense), an sgcnn model file
(counted with its masks; also an imported ONNX network), or a PyTorch
checkpoint with --model. Counts follow
the paper's conventions: a FLOP is one multiply-accumulate; a pruned
(masked) layer counts k*k*sum(mask) weights plus 2 BN parameters per live
filter; layers marked * are counted with that masked rule.`,
		Example: `  sgcnn info resnet56
  sgcnn info --list
  sgcnn info runs/resnet56-conv70.safetensors --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.list {
				return nil
			}
			if len(args) != 1 {
				return usagef("info takes one MODEL (an architecture name or a file); see sgcnn info --help")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.list {
				fmt.Fprintln(g.stdout, strings.Join(models.Names(), "\n"))
				return nil
			}
			return runInfo(g, o, args[0])
		},
	}
	cmd.Flags().BoolVar(&o.list, "list", false, "list the architectures sgcnn knows")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the table as JSON")
	cmd.Flags().IntVar(&o.classes, "classes", 0, "classifier outputs for an architecture name (default: the architecture's)")
	cmd.Flags().StringVar(&o.arch, "model", "", "architecture of a PyTorch checkpoint")
	return cmd
}

func runInfo(g *globals, o *infoOptions, target string) error {
	var m *models.Model
	var err error
	if _, statErr := os.Stat(target); statErr == nil {
		m, _, err = openModel(o.arch, target)
	} else {
		m, err = models.New(target, o.classes, 0)
		if err != nil {
			err = usagef("%s is neither a file nor a known architecture (%s)", target, strings.Join(models.Names(), ", "))
		}
	}
	if err != nil {
		return err
	}
	t, err := count.Count(m.Net, m.InputShape, m.Prunable...)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(g.stdout, map[string]any{"model": m.Arch, "input": m.InputShape, "layers": t.Rows,
			"params": t.Params, "flops": t.FLOPs, "prunable": m.Prunable})
	}
	name := m.Arch
	if m.Arch == models.GraphArch {
		name = fmt.Sprintf("imported network %s (%d prunable layers)", filepath.Base(target), len(m.Prunable))
	}
	fmt.Fprintf(g.stdout, "%s, input %dx%dx%d, %d classes\n\n%s\n%s\n", name,
		m.InputShape[0], m.InputShape[1], m.InputShape[2], m.Classes, t, t.Totals)
	return nil
}
