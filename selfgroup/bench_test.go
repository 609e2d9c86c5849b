package selfgroup

import "testing"

// resnet50Convs lists (filters N, input channels C, kernel positions kk) of
// the 53 convolutions of torchvision's resnet50 in module order: the 7x7
// stem, then per bottleneck conv1 (1x1), conv2 (3x3), conv3 (1x1) and, in
// the first block of each stage, the 1x1 downsample.
func resnet50Convs() [][3]int {
	shapes := [][3]int{{64, 3, 49}}
	in := 64
	for stage, blocks := range []int{3, 4, 6, 3} {
		planes := 64 << stage
		for b := range blocks {
			shapes = append(shapes, [3]int{planes, in, 1}, [3]int{planes, planes, 9}, [3]int{4 * planes, planes, 1})
			if b == 0 {
				shapes = append(shapes, [3]int{4 * planes, in, 1})
			}
			in = 4 * planes
		}
	}
	return shapes
}

func TestResNet50Shapes(t *testing.T) {
	shapes := resnet50Convs()
	params := 0
	for _, s := range shapes {
		params += s[0] * s[1] * s[2]
	}
	// 25.557M parameters in all, of which 2048*1000+1000 in fc and 53120 in BN.
	if len(shapes) != 53 || params != 23454912 {
		t.Fatalf("%d convs with %d weights, want 53 and 23454912", len(shapes), params)
	}
}

// BenchmarkStepResNet50 times one pruning step (rate 10%, defaults: 16
// groups, 10 restarts, first-member rule) of every ResNet-50 conv layer on
// conv-like weights; one op is the whole network.
func BenchmarkStepResNet50(b *testing.B) {
	shapes := resnet50Convs()
	ws := make([][]float32, len(shapes))
	for l, s := range shapes {
		ws[l] = convLike(s[0], s[1], s[2], uint64(l))
	}
	b.ResetTimer()
	for b.Loop() {
		for l, s := range shapes {
			if _, err := Step(ws[l], s[0], s[1], s[2], nil, 10, nil, Options{Seed: 1}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkStepResNet50FC times the 1000x2048 classifier at rate 10%.
func BenchmarkStepResNet50FC(b *testing.B) {
	w := convLike(1000, 2048, 1, 1)
	for b.Loop() {
		if _, err := Step(w, 1000, 2048, 1, nil, 10, nil, Options{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
