package pytorch_test

import (
	"fmt"
	"log"

	"github.com/sgcnn/sgcnn/pytorch"
)

func ExampleLoad() {
	sd, err := pytorch.Load("testdata/zip_nested.pt") // {'state_dict': {'module.…': …}, 'epoch': 3, …}
	if err != nil {
		log.Fatal(err)
	}
	w := sd.Tensors["conv.weight"]
	fmt.Println(len(sd.Names), "float tensors; conv.weight", w.Shape)
	fmt.Println(sd.IntNames, sd.Ints["bn.num_batches_tracked"].Data)
	fmt.Println("window:", sd.Tensors["window"].Data)
	// Output:
	// 15 float tensors; conv.weight [4 3 3 3]
	// [flags bn.num_batches_tracked] [42]
	// window: [1 1.125 1.25 1.75 1.875 2]
}
