package data_test

import (
	"context"
	"fmt"
	"log"

	"github.com/sgcnn/sgcnn/data"
)

// Load the MNIST test set (from the GoMNIST module, no download) and
// iterate over its batches.
func ExampleLoader() {
	test, err := data.LoadMNIST("", false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d images %dx%dx%d, mean %v std %v\n", test.Name, test.N, test.C, test.H, test.W, test.Mean, test.Std)

	l, err := data.NewLoader(test, data.Config{BatchSize: 256})
	if err != nil {
		log.Fatal(err)
	}
	n, last := 0, 0
	for b, err := range l.Epoch(context.Background(), 0) {
		if err != nil {
			log.Fatal(err)
		}
		if n == 0 {
			fmt.Println("first batch:", b.X, "labels", b.Y[:5], "indices", b.Index[:5])
			fmt.Printf("pixel [0][0][0][0] = %.4f\n", b.X.Data[0]) // a 0 pixel: -0.1307/0.3081
		}
		n, last = n+1, len(b.Y)
	}
	fmt.Println(n, "batches; last has", last, "images")
	// Output:
	// mnist/test: 10000 images 1x28x28, mean [0.1307] std [0.3081]
	// first batch: tensor[256 1 28 28] labels [7 2 1 0 4] indices [0 1 2 3 4]
	// pixel [0][0][0][0] = -0.4242
	// 40 batches; last has 16 images
}

// Grey 28x28 images become 3x32x32 for CIFAR models.
func ExampleDataset_ToRGB32() {
	// From /usr/share/datasets/fashion-mnist (scripts/setup.sh installs it).
	train, err := data.LoadFashionMNIST("", true)
	if err != nil {
		log.Fatal(err)
	}
	rgb, err := train.ToRGB32()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rgb.Name, rgb.N, rgb.C, rgb.H, rgb.W, rgb.Mean)
	fmt.Println("image 0:", rgb.Classes[rgb.Labels[0]])
	img := rgb.Image(0)
	fmt.Println("border", img[0], "same in R, G, B:", img[500] == img[1024+500] && img[500] == img[2048+500])
	// Output:
	// fashion-mnist/train/rgb32 60000 3 32 32 [0.286 0.286 0.286]
	// image 0: Ankle boot
	// border 0 same in R, G, B: true
}

// The CIFAR-10 presets: pretrained models expect ImageNet statistics.
func ExampleNorm_Normalize() {
	n := data.ImageNetNorm
	fmt.Printf("%.4f %.4f\n", n.Normalize(0, 0), n.Normalize(0, 255))
	// Output:
	// -2.1179 2.2489
}
