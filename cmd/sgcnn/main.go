// Command sgcnn compresses convolutional neural networks by self-grouping
// convolution: it groups each layer's filters by their input-channel
// importance vectors, prunes the connections each group's centroid deems
// unimportant, fine-tunes, and reports accuracy, parameters, FLOPs and
// measured speed. Run `sgcnn --help` for the commands.
package main

import (
	"os"

	"github.com/sgcnn/sgcnn/cmd/sgcnn/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
