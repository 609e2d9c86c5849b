package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sgcnn/sgcnn/data"
	"github.com/sgcnn/sgcnn/modelfile"
	"github.com/sgcnn/sgcnn/models"
)

type importOptions struct {
	model string
	out   string
}

func newImportCmd(g *globals) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import CHECKPOINT --model ARCH -o OUT",
		Short: "Convert a PyTorch checkpoint into an sgcnn model file",
		Long: `Read a PyTorch checkpoint (legacy pre-1.6 or zip format; a bare state_dict
or one under "state_dict"/"model"; a "module." prefix is stripped), map its
tensors onto an sgcnn architecture, and write an sgcnn model file
(safetensors) that loads with no other file.

Every parameter and BatchNorm running statistic of the architecture must be
in the checkpoint with the right shape; anything missing, unexpected or
mismatched is listed and nothing is written. Only the classes a state_dict
needs are unpickled: a checkpoint that asks for any other class is refused.`,
		Example: `  sgcnn import ../shared/models/cifar10/resnet56-4bfd9763.th --model resnet56 -o resnet56.safetensors`,
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return runImport(g, o, args[0]) },
	}
	cmd.Flags().StringVar(&o.model, "model", "", "architecture (see sgcnn info --list)")
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "output model file (.safetensors)")
	return cmd
}

func runImport(g *globals, o *importOptions, in string) error {
	if o.model == "" {
		return usagef("--model is required: a PyTorch checkpoint does not name its architecture (one of %v)", models.Names())
	}
	if o.out == "" {
		return usagef("--out is required")
	}
	m, _, err := openModel(o.model, in)
	if err != nil {
		return err
	}
	info := modelfile.Info{Dataset: defaultDataset(m.Arch)}
	if info.Dataset == "cifar10" {
		info.Mean, info.Std = data.ImageNetNorm.Mean, data.ImageNetNorm.Std
	}
	if err := modelfile.Save(o.out, m, false, info, nil); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "wrote %s (%s, from %s)\n", o.out, m.Arch, in)
	return nil
}
