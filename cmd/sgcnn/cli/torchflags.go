package cli

import (
	"github.com/spf13/pflag"

	"github.com/sgcnn/sgcnn/torchtrain"
)

// torchHelp is the engine flags' part of train's and prune's --help.
const torchHelp = `
--trainer torch runs every fine-tuning epoch on PyTorch DDP: sgcnn writes
the weights, masks and momentum, starts torchrun (--nproc processes per node,
--device cpu with gloo or cuda with NCCL, --nnodes and --rdzv-endpoint for
several machines) on the trainer script built into sgcnn, reads the result
back and checks that every pruned connection is still exactly zero;
evaluation, reports and checkpoints stay in Go. The trainer also writes an
atomic checkpoint every tenth of an epoch: a worker that dies stops the run
with an error naming its rank and exit code, and --resume continues inside
the interrupted epoch. The flags mean the same under both trainers (--batch
is the global batch, split over the processes); distillation is not
supported under torch. Image folders (--dataset imagefolder, train and
eval) are read by torchvision's ImageFolder with the same transforms. The Go engine, the default, needs no Python and
is the faster one on a single CPU machine.`

// registerEngine adds the engine flags.
func registerEngine(f *pflag.FlagSet, e *torchtrain.Engine) {
	f.StringVar(&e.Trainer, "trainer", "go", "fine-tuning engine: go (sgcnn's own) or torch (PyTorch DDP under torchrun)")
	f.IntVar(&e.NProc, "nproc", 1, "processes per node under --trainer torch")
	f.StringVar(&e.Device, "device", "cpu", "cpu or cuda, under --trainer torch")
	f.IntVar(&e.NNodes, "nnodes", 1, "machines under --trainer torch (needs --rdzv-endpoint)")
	f.StringVar(&e.RdzvEndpoint, "rdzv-endpoint", "", "HOST:PORT of torchrun's rendezvous, for --nnodes > 1")
}
