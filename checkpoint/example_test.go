package checkpoint_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/sgcnn/sgcnn/checkpoint"
	"github.com/sgcnn/sgcnn/tensor"
)

func Example() {
	dir, err := os.MkdirTemp("", "ck")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "resnet20.safetensors")

	f := checkpoint.NewFile()
	f.Add("linear.bias", &tensor.Tensor{Shape: []int{2}, Data: []float32{0.5, -1}})
	f.AddInt("step", &checkpoint.IntTensor{Shape: []int{}, Data: []int64{1200}})
	f.Meta["arch"] = "resnet20"
	if err := checkpoint.Save(path, f); err != nil {
		log.Fatal(err)
	}

	g, err := checkpoint.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(g.Names, g.Tensors["linear.bias"].Data, g.Ints["step"].Data, g.Meta["arch"])
	// Output: [linear.bias] [0.5 -1] [1200] resnet20
}
