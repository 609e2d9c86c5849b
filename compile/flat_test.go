package compile_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/internal/kernel"
	"github.com/sgcnn/sgcnn/models"
)

// TestFlatRouteParity checks a pruned ResNet-20 (grouped route, one image
// split over two goroutines and not) against nn with kernel's flat route
// of 8x8, 16x16 and 32x32 planes forced on for every conv it fits, and
// off: the flat and padded layouts meet at every kind of handoff (conv to
// conv, the stride-2 convs, residual adds), and the plans read the
// weights compile folds constants into after building them.
func TestFlatRouteParity(t *testing.T) {
	for _, mode := range []int{1, -1} {
		for _, split := range []compile.SplitMode{compile.SplitOff, compile.SplitOn} {
			t.Run(fmt.Sprintf("flat%d/split=%v", mode, split), func(t *testing.T) {
				defer kernel.SetFlat8(kernel.SetFlat8(mode))
				m, err := models.New("resnet20", 0, 2)
				if err != nil {
					t.Fatal(err)
				}
				r := rand.New(rand.NewPCG(4, 5))
				randomizeBN(m.Net, r)
				pruneModel(t, m, 70, 3)
				x := randInput(r, 3, m.InputShape)
				checkParity(t, m, x, compile.Options{Route: compile.Grouped, Micro: 2, SplitOne: split, Threads: 1})
			})
		}
	}
}
