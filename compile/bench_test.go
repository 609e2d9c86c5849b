package compile_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sgcnn/sgcnn/compile"
	"github.com/sgcnn/sgcnn/internal/parallel"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
)

// BenchmarkForward times nn's masked forward, the compiled dense baseline
// and the compiled pruned ResNet-56 at Conv-70 on one thread, batch 64.
func BenchmarkForward(b *testing.B) {
	defer parallel.SetThreads(parallel.Threads())
	parallel.SetThreads(1)
	m, err := models.New("resnet56", 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	randomizeBN(m.Net, r)
	pruneModel(b, m, 70, 7)
	x := randInput(r, 64, m.InputShape)
	for _, route := range []compile.Route{compile.Auto, compile.Grouped, compile.Merged, compile.Dense} {
		net, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{Route: route})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("compiled/%v", route), func(b *testing.B) {
			for b.Loop() {
				if _, err := net.Forward(x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	dense, err := compile.Compile(m.Net, m.InputShape[:], compile.Options{IgnoreMasks: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("compiled-unpruned", func(b *testing.B) {
		for b.Loop() {
			if _, err := dense.Forward(x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nn", func(b *testing.B) {
		ctx := nn.NewCtx(false)
		for b.Loop() {
			if _, err := m.Net.Forward(ctx, x); err != nil {
				b.Fatal(err)
			}
		}
	})
}
