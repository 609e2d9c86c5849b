// Command holdout prints the training-image indices sgcnn's --val-split N holds out of a training set of M images, as JSON (experiments/parity.sh gives them to experiments/parity_torch.py).
//
//	go run ./experiments/holdout -n 500 -of 50000 > val500.json
//
// It runs data.Holdout itself, with sgcnn.ValSeed, on a stand-in data set
// whose images are their own indices, so the list is the one a run uses.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/data"
)

func main() {
	n := flag.Int("n", 5000, "images held out (--val-split)")
	of := flag.Int("of", 50000, "training images (50,000 for CIFAR, 60,000 for MNIST)")
	flag.Parse()
	if *of < 1 || *of > 1<<24 {
		fmt.Fprintf(os.Stderr, "holdout: -of %d: want 1 to %d\n", *of, 1<<24)
		os.Exit(2)
	}
	d := &data.Dataset{Name: "stand-in", N: *of, C: 1, H: 1, W: 4, Pixels: make([]uint8, 4**of),
		Labels: make([]int, *of), Classes: []string{"all"}}
	for i := range *of {
		binary.LittleEndian.PutUint32(d.Pixels[4*i:], uint32(i))
	}
	_, held, err := d.Holdout(*n, sgcnn.ValSeed)
	if err != nil {
		fmt.Fprintf(os.Stderr, "holdout: -n %d: %v\n", *n, err)
		os.Exit(2)
	}
	idx := make([]int, 0, *n)
	for i := range *n {
		idx = append(idx, int(binary.LittleEndian.Uint32(held.Pixels[4*i:])))
	}
	if err := json.NewEncoder(os.Stdout).Encode(idx); err != nil {
		fmt.Fprintln(os.Stderr, "holdout:", err)
		os.Exit(1)
	}
}
